/**
 * Engine-level check (slow: one full guest boot, ~20-60 s): v86 in Node boots the project's guest with a
 * V86Disk as hda (Range-fetched, hash-verified base + IndexedDB overlay), writes a file, and the bytes land in
 * the overlay. Run: DISK_ENGINE=1 npx vitest run tests/unit/disk/engine.test.ts
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { V86 } from "v86";
import { describe, expect, it } from "vitest";
import { HttpBaseImage } from "../../../src/disk/base-image";
import { LayerStore } from "../../../src/disk/layer-store";
import { Overlay } from "../../../src/disk/overlay";
import { V86Disk } from "../../../src/disk/v86-disk";
import { parseBlockHashList, parseGuestManifest } from "../../../src/protocol/guest-manifest";
import { freshDb, startServer } from "./helpers";

const GUEST = join(import.meta.dirname, "..", "..", "..", "public", "guest");
const WASM = join(import.meta.dirname, "..", "..", "..", "node_modules", "v86", "build", "v86.wasm");
const enabled = !!process.env.DISK_ENGINE && existsSync(join(GUEST, "guest.json"));

function file(name: string): ArrayBuffer {
  const b = readFileSync(join(GUEST, name));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

describe.skipIf(!enabled)("V86Disk under v86", () => {
  it("boots the guest from a lazily fetched base and keeps guest writes in the overlay", async () => {
    const manifest = parseGuestManifest(JSON.parse(readFileSync(join(GUEST, "guest.json"), "utf8")));
    const d = manifest.files.disk;
    const hashes = parseBlockHashList(JSON.parse(readFileSync(join(GUEST, d.blocks), "utf8")), d);
    const image = new Uint8Array(readFileSync(join(GUEST, d.path)));
    const srv = await startServer(image);
    const db = await freshDb();
    try {
      const base = await HttpBaseImage.open({ url: srv.url, size: d.size, sha256: d.sha256, blockHashes: hashes, db });
      const store = new LayerStore(db);
      const layer = await store.createLayer({ parent: null, imageId: base.imageId, blockSize: base.blockSize });
      const overlay = await Overlay.open(store, layer.id, base);
      const errors: unknown[] = [];
      const disk = new V86Disk(overlay, { onError: (e) => errors.push(e) });
      let serial = "";
      const t0 = performance.now();
      const emulator = new V86({
        wasm_path: WASM,
        bios: { buffer: file(manifest.files.bios.path) },
        vga_bios: { buffer: file(manifest.files.vgaBios.path) },
        bzimage: { buffer: file(manifest.files.bzimage.path) },
        initrd: { buffer: file(manifest.files.initrd.path) },
        hda: disk,
        cmdline: manifest.cmdline,
        memory_size: manifest.memoryMiB << 20,
        vga_memory_size: 2 << 20,
        autostart: true,
        disable_speaker: true,
        uart1: true, // COM2, as in the app: the guest runs its automation shell there
      } as unknown as ConstructorParameters<typeof V86>[0]);
      emulator.add_listener("serial0-output-byte", (b: number) => (serial += String.fromCharCode(b)));
      const waitFor = async (re: RegExp, from: number, ms: number) => {
        const end = Date.now() + ms;
        while (!re.test(serial.slice(from))) {
          if (Date.now() > end) throw new Error(`timeout; serial tail ${JSON.stringify(serial.slice(-300))}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await waitFor(/:\/[^\n]*# /, 0, 180_000);
      const bootMs = performance.now() - t0;
      const from = serial.length;
      emulator.serial0_send("echo snap86-disk-ok-$((6*7)) > /root/x; sync; cat /root/x\n");
      await waitFor(/snap86-disk-ok-42\r?\n/, from, 30_000);

      const state = new Uint8Array(await emulator.save_state());
      expect(indexOf(state, new TextEncoder().encode(`"snap86-disk",1,"${layer.id}"`))).toBeGreaterThan(0);
      await emulator.stop();
      await disk.whenIdle();
      await disk.flush();
      const stats = { overlay: overlay.stats(), base: base.stats(), bootMs: Math.round(bootMs), stateBytes: state.byteLength };
      console.log(JSON.stringify(stats));
      await emulator.destroy();

      expect(errors).toEqual([]);
      expect(stats.overlay.blocks).toBeGreaterThan(0);
      expect(stats.base.bytesFetched).toBeLessThan(d.size / 2); // lazily fetched
      const reopened = await Overlay.open(store, layer.id, base);
      const needle = new TextEncoder().encode("snap86-disk-ok-42");
      expect(indexOf(await reopened.read(0, d.size), needle)).toBeGreaterThan(0);
      expect(indexOf(image, needle)).toBe(-1);
    } finally {
      await srv.close();
    }
  }, 300_000);
});
