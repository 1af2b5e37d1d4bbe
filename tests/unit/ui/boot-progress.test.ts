import { describe, expect, it } from "vitest";
import { BootProgress, furthestStage, stageText } from "../../../src/page/ui/boot-progress";

describe("boot progress from the guest's stage lines", () => {
  it("finds the furthest stage the guest printed", () => {
    expect(furthestStage("noise")).toBeUndefined();
    expect(furthestStage("snap86-boot: drivers\r\nsnap86-boot: disk\r\n")).toBe("disk");
    expect(furthestStage("snap86-boot: shell\nsnap86-boot: drivers\n")).toBe("shell");
    expect(stageText("init")).toBe("Booting, step 4 of 5: Starting init and the shells…");
  });

  it("only moves forward, across split events, and ends", () => {
    const p = new BootProgress(null);
    p.feed("snap86-boot: disk\n"); // not booting: ignored
    expect(p.current).toBeUndefined();
    p.start();
    expect(p.current).toBe("kernel");
    p.feed("snap86-bo");
    p.feed("ot: disk\n");
    expect(p.current).toBe("disk");
    p.feed("snap86-boot: drivers\n");
    expect(p.current).toBe("disk");
    p.feed("snap86-boot: shell\n");
    expect(p.current).toBe("shell");
    p.finish();
    expect(p.current).toBeUndefined();
  });
});
