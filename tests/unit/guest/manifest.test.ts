import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { buildManifest, computeInputsHash, fileEntry, readManifest, staleReason } from "../../../scripts/guest/manifest.mjs";
import { parseBlockHashList, parseGuestManifest } from "../../../src/protocol/guest-manifest";

const pkgs = [
  { name: "linux-image-6.1.0-50-686", version: "6.1.176-1", arch: "i386" },
  { name: "busybox-static", version: "1:1.35.0-4+deb12u1+b1", arch: "i386" },
];
const src = (rel: string, text: string) => ({ rel, text: new TextEncoder().encode(text) });

describe("inputsHash", () => {
  const base = computeInputsHash(pkgs, [src("build-guest.mjs", "a"), src("guest/x.mjs", "b")]);

  it("does not depend on list order", () => {
    expect(computeInputsHash([...pkgs].reverse(), [src("guest/x.mjs", "b"), src("build-guest.mjs", "a")])).toBe(base);
  });

  it("changes with a package version or a builder source", () => {
    const bumped = pkgs.map((p, i) => (i === 0 ? { ...p, version: "6.1.177-1" } : p));
    expect(computeInputsHash(bumped, [src("build-guest.mjs", "a"), src("guest/x.mjs", "b")])).not.toBe(base);
    expect(computeInputsHash(pkgs, [src("build-guest.mjs", "a"), src("guest/x.mjs", "c")])).not.toBe(base);
  });
});

describe("guest.json", () => {
  const dir = mkdtempSync(join(tmpdir(), "guest-manifest-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, bytes: number) => {
    const data = new Uint8Array(bytes).fill(1);
    writeFileSync(join(dir, name), data);
    return fileEntry(name, data);
  };
  const manifest = buildManifest({
    packages: pkgs,
    kernelRelease: "6.1.0-50-686",
    cmdline: "console=ttyS0",
    memoryMiB: 128,
    modules: ["libata", "ata_piix"],
    files: {
      bios: write("bios.bin", 100),
      vgaBios: write("vgabios.bin", 50),
      bzimage: write("bzImage", 300),
      initrd: write("initrd.img", 200),
      disk: { ...write("rootfs.ext4", 4096), blockSize: 65536, blocks: "rootfs.ext4.blocks.json" },
    },
    inputsHash: "h1",
  });
  writeFileSync(join(dir, "rootfs.ext4.blocks.json"), "{}");
  writeFileSync(join(dir, "guest.json"), JSON.stringify(manifest));

  it("names the automation console for the app, which ignores a port it does not know", () => {
    const withConsole = buildManifest({ ...manifest, automationConsole: "ttyS1" });
    expect(parseGuestManifest(JSON.parse(JSON.stringify(withConsole)) as unknown).automationConsole).toBe("ttyS1");
    expect(parseGuestManifest({ ...withConsole, automationConsole: "ttyS9" }).automationConsole).toBeUndefined();
    expect(parseGuestManifest(JSON.parse(JSON.stringify(manifest)) as unknown).automationConsole).toBeUndefined();
  });

  it("passes the app's validator", () => {
    const parsed = parseGuestManifest(JSON.parse(JSON.stringify(manifest)) as unknown);
    expect(parsed.files.disk.blocks).toBe("rootfs.ext4.blocks.json");
    expect(parsed.modules).toEqual(["libata", "ata_piix"]);
  });

  it("is up to date only with the same inputs and every file at its size", () => {
    const read = readManifest(dir);
    expect(staleReason(dir, read, "h1")).toBeNull();
    expect(staleReason(dir, read, "h2")).toMatch(/changed/);
    writeFileSync(join(dir, "initrd.img"), new Uint8Array(199));
    expect(staleReason(dir, read, "h1")).toMatch(/initrd\.img has 199 bytes/);
    rmSync(join(dir, "rootfs.ext4.blocks.json"));
    write("initrd.img", 200);
    expect(staleReason(dir, read, "h1")).toMatch(/blocks\.json is missing/);
    expect(staleReason(dir, null, "h1")).toMatch(/missing/);
  });
});

// The real build output, when there is one: it must be what the app accepts.
const built = fileURLToPath(new URL("../../../public/guest/guest.json", import.meta.url));
describe.skipIf(!existsSync(built))("built public/guest", () => {
  it("guest.json and its block list pass the app's validators", () => {
    const m = parseGuestManifest(JSON.parse(readFileSync(built, "utf8")) as unknown);
    const blocks = JSON.parse(readFileSync(join(built, "..", m.files.disk.blocks), "utf8")) as unknown;
    const list = parseBlockHashList(blocks, { blockSize: m.files.disk.blockSize, size: m.files.disk.size });
    expect(list.sha256.length).toBe(Math.ceil(m.files.disk.size / m.files.disk.blockSize));
    expect(m.modules).toEqual(expect.arrayContaining(["ext4", "9p", "9pnet_virtio", "virtio_net"]));
  });
});
