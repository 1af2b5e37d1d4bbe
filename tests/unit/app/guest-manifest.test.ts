import { readFileSync, existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ManifestError, parseBlockHashList, parseGuestManifest } from "../../../src/protocol/guest-manifest";

const hex = (c: string) => c.repeat(64);
function manifest(overrides: Record<string, unknown> = {}) {
  const f = (path: string) => ({ path, size: 10, sha256: hex("a") });
  return {
    schema: 1,
    name: "guest",
    packages: [{ name: "busybox-static", version: "1:1.35", arch: "i386" }],
    kernelRelease: "6.1.0-50-686",
    cmdline: "console=ttyS0",
    memoryMiB: 128,
    modules: ["libata", "ext4"],
    files: {
      bios: f("bios.bin"),
      vgaBios: f("vgabios.bin"),
      bzimage: f("bzImage"),
      initrd: f("initrd.img"),
      disk: { ...f("rootfs.ext4"), blockSize: 65536, blocks: "rootfs.ext4.blocks.json" },
    },
    inputsHash: hex("b"),
    ...overrides,
  };
}

describe("parseGuestManifest", () => {
  it("accepts a well-formed manifest", () => {
    const m = parseGuestManifest(manifest());
    expect(m.files.disk.blockSize).toBe(65536);
    expect(m.modules).toEqual(["libata", "ext4"]);
  });
  it("accepts the manifest the guest builder wrote", () => {
    const path = "public/guest/guest.json";
    if (!existsSync(path)) return; // built by `npm run build:guest`; npm test builds it first
    const m = parseGuestManifest(JSON.parse(readFileSync(path, "utf8")));
    expect(m.packages.map((p) => p.name)).toContain("busybox-static");
    // Read by the build from a boot of its kernel (scripts/guest/kernel-rng-layout.mjs).
    expect(m.kernelRng?.reseedBytes).toBeGreaterThan(0);
  });
  it("keeps the kernel's CRNG layout, and drops a malformed one without refusing the guest", () => {
    const layout = { reseedFromSysenter: -3497344, reseedBytes: 240 };
    expect(parseGuestManifest(manifest({ kernelRng: layout })).kernelRng).toEqual(layout);
    for (const bad of [{ reseedFromSysenter: "x", reseedBytes: 240 }, { reseedFromSysenter: 1, reseedBytes: 0 }, { reseedFromSysenter: 1.5, reseedBytes: 240 }, null]) {
      expect(parseGuestManifest(manifest({ kernelRng: bad })).kernelRng).toBeUndefined();
    }
  });
  it.each([
    [{ schema: 2 }, /schema 2/],
    [{ files: undefined }, /no files/],
    [{ memoryMiB: -1 }, /memoryMiB/],
    [{ modules: [1] }, /modules/],
    [{ files: { ...manifest().files, bios: { path: "../../etc/passwd", size: 1, sha256: hex("a") } } }, /inside the guest folder/],
    [{ files: { ...manifest().files, initrd: { path: "i", size: 1, sha256: "xyz" } } }, /sha256/],
    [{ files: { ...manifest().files, disk: { ...manifest().files.disk, blockSize: 1000 } } }, /power of two/],
  ])("refuses %j", (override, message) => {
    expect(() => parseGuestManifest(manifest(override))).toThrow(ManifestError);
    expect(() => parseGuestManifest(manifest(override))).toThrow(message);
  });
});

describe("parseBlockHashList", () => {
  it("checks block size and count against the image", () => {
    const list = { blockSize: 512, sha256: [hex("a"), hex("b"), hex("c")] };
    expect(parseBlockHashList(list, { blockSize: 512, size: 1100 }).sha256).toHaveLength(3);
    expect(() => parseBlockHashList(list, { blockSize: 512, size: 2000 })).toThrow(/4 entries/);
    expect(() => parseBlockHashList(list, { blockSize: 1024, size: 1100 })).toThrow(/512-byte blocks/);
  });
});
