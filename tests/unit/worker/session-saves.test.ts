import { describe, expect, it, vi } from "vitest";
import { SessionSaves } from "../../../src/emulator/session-saves";
import type { CheckpointInfo } from "../../../src/protocol";
import type { DiskSession } from "../../../src/emulator/disk-session";

function setup(stored: Array<Pick<CheckpointInfo, "id" | "autosave" | "machineKey" | "diskLayerId">>) {
  const forgotten: string[] = [];
  const folded: string[] = [];
  const saves = new SessionSaves({
    list: vi.fn(async () => stored as CheckpointInfo[]),
    forget: async (ids) => void forgotten.push(...ids),
    collectGarbage: async () => undefined,
    publishList: async () => undefined,
  });
  const disk = { foldUnreferencedLayer: async (id: string) => (folded.push(id), true) } as unknown as DiskSession;
  return { saves, forgotten, folded, disk };
}

describe("SessionSaves", () => {
  it("each save replaces the one before of its machine, and folds its layer", async () => {
    const { saves, forgotten, folded, disk } = setup([]);
    await saves.replaceWith([disk], { id: "a1", machineKey: "A", layers: ["L1"] });
    expect(forgotten).toEqual([]);
    await saves.replaceWith([disk], { id: "a2", machineKey: "A", layers: ["L2"] });
    expect(forgotten).toEqual(["a1"]);
    expect(folded).toEqual(["L1"]);
  });

  it("a save of another machine leaves the first machine's newest save alone", async () => {
    const { saves, forgotten, disk } = setup([]);
    await saves.replaceWith([disk], { id: "a1", machineKey: "A", layers: ["L1"] });
    await saves.replaceWith([disk], { id: "b1", machineKey: "B", layers: ["M1"] });
    expect(forgotten).toEqual([]);
    await saves.replaceWith([disk], { id: "a2", machineKey: "A", layers: ["L2"] });
    expect(forgotten).toEqual(["a1"]);
  });

  it("the first save of a machine also replaces that machine's saves of earlier pages, no other machine's", async () => {
    const { saves, forgotten, folded, disk } = setup([
      { id: "old-a", autosave: true, machineKey: "A", diskLayerId: "LA" },
      { id: "old-b", autosave: true, machineKey: "B", diskLayerId: "LB" },
      { id: "kept", autosave: false, machineKey: "A", diskLayerId: "LK" },
    ]);
    await saves.replaceWith([disk], { id: "a1", machineKey: "A", layers: ["L1"] });
    expect(forgotten).toEqual(["old-a"]);
    expect(folded).toEqual(["LA"]);
  });

  it("a save does not wait for the sweep it starts, and never starts a second one beside it", async () => {
    let clock = 0;
    const now = vi.spyOn(performance, "now").mockImplementation(() => clock);
    try {
      let sweeps = 0;
      let finish = (): void => undefined;
      const saves = new SessionSaves({
        list: async () => [],
        forget: async () => undefined,
        collectGarbage: () => {
          sweeps++;
          return new Promise<void>((resolve) => (finish = resolve));
        },
        publishList: async () => undefined,
      });
      const disk = { foldUnreferencedLayer: async () => true } as unknown as DiskSession;
      clock = 31_000;
      await saves.replaceWith([disk], { id: "a1", machineKey: "A", layers: [] });
      expect(sweeps).toBe(1);
      clock = 62_000;
      await saves.replaceWith([disk], { id: "a2", machineKey: "A", layers: [] });
      expect(sweeps).toBe(1);
      finish();
      await new Promise((r) => setTimeout(r, 0));
      clock = 93_000;
      await saves.replaceWith([disk], { id: "a3", machineKey: "A", layers: [] });
      expect(sweeps).toBe(2);
    } finally {
      now.mockRestore();
    }
  });
});
