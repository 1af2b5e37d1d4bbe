import { describe, expect, it } from "vitest";
import { ConfigError, validateMachineConfig } from "../../../src/protocol/machine-config";
import { kindFromName } from "../../../src/protocol/media-kind";

describe("validateMachineConfig", () => {
  it("fills defaults", () => {
    expect(validateMachineConfig({})).toEqual({ memoryMiB: 128, vgaMemoryMiB: 4 });
  });
  it.each([
    [{ memoryMiB: 8 }, /memoryMiB/],
    [{ memoryMiB: 100.5 }, /memoryMiB/],
    [{ memoryMiB: 2048 }, /2047/],
    [{ memoryMiB: "128" }, /memoryMiB/],
    [{ vgaMemoryMiB: 3 }, /vgaMemoryMiB/],
    [{ memoryMiB: 64 }, /more than 64 MiB/],
    [{ image: { kind: "tape", url: "/x.iso" } }, /kind/],
    [{ image: { kind: "cdrom", url: "ftp://host/x.iso" } }, /http/],
    [{ image: { kind: "cdrom" } }, /url, a file, a stored id or bytes/],
    [{ image: { kind: "fda", bytes: new ArrayBuffer(3_000_000) } }, /floppy/],
    [{ image: { kind: "hda", bytes: new ArrayBuffer(0) } }, /empty/],
    [null, /object/],
  ])("refuses %j", (input, message) => {
    expect(() => validateMachineConfig(input)).toThrow(ConfigError);
    expect(() => validateMachineConfig(input)).toThrow(message);
  });
  it("allows small memory for a user's own image", () => {
    const c = validateMachineConfig({ memoryMiB: 32, image: { kind: "fda", url: "/dos.img" } });
    expect(c).toEqual({ memoryMiB: 32, vgaMemoryMiB: 4, image: { kind: "fda", url: "/dos.img" } });
  });
});

describe("several drives", () => {
  const url = (u: string, kind?: string) => ({ url: u, ...(kind ? { kind } : {}) });
  it("keeps the drives in the order given (the boot order), each checked like an image", () => {
    const config = validateMachineConfig({ drives: [url("/a.img", "fda"), url("/b.iso")] });
    expect(config.drives).toEqual([{ kind: "fda", url: "/a.img" }, { kind: "auto", url: "/b.iso" }]);
  });
  it.each([
    [{ image: url("/a.img"), drives: [url("/b.img")] }, /image or drives/],
    [{ drives: [] }, /1 to 3/],
    [{ drives: [url("/a"), url("/b"), url("/c"), url("/d")] }, /1 to 3/],
    [{ drives: [url("/a.img", "fda"), url("/b.img", "fda")] }, /same drive \(fda\)/],
    [{ drives: [{ kind: "tape", url: "/x" }] }, /kind/],
  ])("refuses %j", (input, message) => {
    expect(() => validateMachineConfig(input)).toThrow(message);
  });
  it("takes a picked file as a Blob (read by slices later), refusing an empty one", () => {
    const file = new Blob([new Uint8Array(512)]);
    expect(validateMachineConfig({ image: { name: "x.img", file } }).image).toEqual({ kind: "auto", name: "x.img", file });
    expect(() => validateMachineConfig({ image: { name: "x.img", file: new Blob([]) } })).toThrow(/empty/);
  });
});

describe("kindFromName (the one name rule, shared with detectMediaKind)", () => {
  it.each([
    ["debian.iso", undefined, "cdrom"],
    ["https://x/y/KOLIBRI.ISO?dl=1", undefined, "cdrom"],
    ["freedos.img", 1_474_560, "fda"],
    ["disk.img", 50_000_000, "hda"],
    ["disk.img", undefined, "hda"],
    ["boot.flp", undefined, "fda"],
    ["DOS.DSK", undefined, "fda"],
    ["huge.vfd", 50_000_000, "hda"],
    ["linux.qcow", undefined, "hda"],
    ["small.hdd", 1_474_560, "hda"],
    ["program.bin", undefined, undefined],
  ])("%s (%s bytes) -> %s", (name, size, kind) => {
    expect(kindFromName(name, size)).toBe(kind);
  });
});
