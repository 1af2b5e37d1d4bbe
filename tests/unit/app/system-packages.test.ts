import { describe, expect, it } from "vitest";
import { planSystemSetup, type SystemSetupInput } from "../../../scripts/lib/system-packages.mjs";

const fresh: SystemSetupInput = {
  wanted: ["kmod", "cpio", "chromium", "fonts-dejavu-core"],
  installed: new Set(["dpkg"]),
  foreignArchs: [],
  needGuestArch: true,
  isRoot: true,
  hasSudo: false,
};

describe("planSystemSetup", () => {
  it("on a fresh Debian machine as root: i386 lists, package lists, then every missing package", () => {
    expect(planSystemSetup(fresh).commands).toEqual([
      ["dpkg", "--add-architecture", "i386"],
      ["apt-get", "update", "-qq"],
      ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "kmod", "cpio", "chromium", "fonts-dejavu-core"],
    ]);
  });

  it("does nothing when everything is there", () => {
    const ready = { ...fresh, installed: new Set(fresh.wanted), foreignArchs: ["i386"] };
    expect(planSystemSetup(ready)).toEqual({ commands: [] });
  });

  it("asks for i386 only when the guest must be built", () => {
    const plan = planSystemSetup({ ...fresh, needGuestArch: false, wanted: ["chromium"] });
    expect(plan.commands?.flat()).not.toContain("--add-architecture");
  });

  it("goes through sudo -n for another user, and says what to run when it cannot", () => {
    expect(planSystemSetup({ ...fresh, isRoot: false, hasSudo: true }).commands?.every((c) => c[0] === "sudo" && c[1] === "-n")).toBe(true);
    const stuck = planSystemSetup({ ...fresh, isRoot: false, hasSudo: false });
    expect(stuck.commands).toBeUndefined();
    expect(stuck.error).toContain("sudo apt-get install -y -qq --no-install-recommends kmod cpio chromium fonts-dejavu-core");
    expect(stuck.error).toContain("sudo dpkg --add-architecture i386");
  });
});
