// Every writable drive of a machine is frozen at a capture and branched at a restore; the
// manifest's disk fields say which layer is whose (docs/checkpoint-format.md, format v2).
import { describe, expect, it } from "vitest";
import { branchDisks, disksIdleNow, freezeDisks, prepareBranches, switchBranches, whenDisksIdle, type MachineDisks } from "../../../src/emulator/machine-disks";
import type { DiskSession } from "../../../src/emulator/disk-session";

function fakeSession(name: string, log: string[]): DiskSession {
  let layer = 0;
  return {
    get layerId() {
      return `${name}-${layer}`;
    },
    freezeAndContinue: async () => {
      log.push(`freeze ${name}-${layer}`);
      return `${name}-${layer++}`;
    },
    branchFrom: async (id: string) => void log.push(`branch ${name} from ${id}`),
    prepareBranch: async function (this: DiskSession, id: string) {
      if (id === "unwritable") throw new Error("quota");
      log.push(`prepare ${name} from ${id}`);
      return { session: this, overlay: { layer: { id: `${name}-child-of-${id}` } } };
    },
    switchTo: (b: { overlay: { layer: { id: string } } }) => void log.push(`switch ${name} to ${b.overlay.layer.id}`),
    discardBranch: (b: { overlay: { layer: { id: string } } }) => void log.push(`discard ${b.overlay.layer.id}`),
    disk: { whenIdle: async () => void log.push(`idle ${name}`), hold: () => () => undefined, inFlightReads: 0 },
  } as unknown as DiskSession;
}

describe("machine disks", () => {
  it("freezes every writable drive and names each layer for a user's machine", async () => {
    const log: string[] = [];
    const m: MachineDisks = { disks: [{ kind: "fda", session: fakeSession("a", log) }, { kind: "hda", session: fakeSession("b", log) }] };
    expect(await freezeDisks(m, true)).toEqual({
      diskLayerId: "a-0",
      driveLayers: [
        { kind: "fda", diskLayerId: "a-0" },
        { kind: "hda", diskLayerId: "b-0" },
      ],
    });
    expect(log).toEqual(["freeze a-0", "freeze b-0"]);
  });

  it("the built-in guest's one disk needs no drive list; a CD-only machine has no layer", async () => {
    const log: string[] = [];
    expect(await freezeDisks({ disks: [{ kind: "hda", session: fakeSession("g", log) }] }, false)).toEqual({ diskLayerId: "g-0" });
    expect(await freezeDisks({ disks: [] }, true)).toEqual({ diskLayerId: null });
  });

  it("branches each drive from its own layer, and the single disk from diskLayerId", async () => {
    const log: string[] = [];
    const m: MachineDisks = { disks: [{ kind: "fda", session: fakeSession("a", log) }, { kind: "hda", session: fakeSession("b", log) }] };
    await branchDisks(m, { diskLayerId: "x", driveLayers: [{ kind: "hda", diskLayerId: "y" }, { kind: "fda", diskLayerId: "x" }] });
    expect(log).toEqual(["branch b from y", "branch a from x"]);
    log.length = 0;
    await branchDisks({ disks: [{ kind: "hda", session: fakeSession("g", log) }] }, { diskLayerId: "z" });
    expect(log).toEqual(["branch g from z"]);
  });

  it("waits for the CD-ROM's reads as well as the writable drives'", async () => {
    const log: string[] = [];
    const cdrom = { whenIdle: async () => void log.push("idle cd") };
    await whenDisksIdle({ disks: [{ kind: "fda", session: fakeSession("a", log) }], readOnly: [cdrom as never] });
    expect(log.sort()).toEqual(["idle a", "idle cd"]);
  });

  it("a reset prepares every drive's branch ahead and switches without waiting; a failed prepare leaves nothing behind", async () => {
    const log: string[] = [];
    const m: MachineDisks = { disks: [{ kind: "fda", session: fakeSession("a", log) }, { kind: "hda", session: fakeSession("b", log) }] };
    const branches = await prepareBranches(m, { diskLayerId: "x", driveLayers: [{ kind: "fda", diskLayerId: "x" }, { kind: "hda", diskLayerId: "y" }] });
    expect(log).toEqual(["prepare a from x", "prepare b from y"]);
    log.length = 0;
    switchBranches(branches);
    expect(log).toEqual(["switch a to a-child-of-x", "switch b to b-child-of-y"]);
    log.length = 0;
    await expect(prepareBranches(m, { diskLayerId: "x", driveLayers: [{ kind: "fda", diskLayerId: "x" }, { kind: "hda", diskLayerId: "unwritable" }] })).rejects.toThrow("quota");
    expect(log).toEqual(["prepare a from x", "discard a-child-of-x"]);
  });

  it("fixes an instant without stopping only when no drive has a read in flight", () => {
    const log: string[] = [];
    const a = fakeSession("a", log);
    const cdrom = { inFlightReads: 0 };
    const m: MachineDisks = { disks: [{ kind: "fda", session: a }], readOnly: [cdrom as never] };
    expect(disksIdleNow(m)).toBe(true);
    cdrom.inFlightReads = 1;
    expect(disksIdleNow(m)).toBe(false);
    cdrom.inFlightReads = 0;
    (a.disk as unknown as { inFlightReads: number }).inFlightReads = 2;
    expect(disksIdleNow(m)).toBe(false);
  });
});
