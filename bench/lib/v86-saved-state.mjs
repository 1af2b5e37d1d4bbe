// v86's own way to start a machine, for comparison (bench:start): a whole saved state of the
// booted guest, zstd-compressed, that a page fetches and hands to v86's restore_state (how v86's
// demos start). Made once per guest build in Node (the same devices as the app's machine, plain
// wasm, the disk's boot writes in the state as v86's HTTP disk keeps them), cached in .cache.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { V86 } from "v86";
import { compress, init } from "@bokuweb/zstd-wasm";
import { ROOT } from "../../scripts/lib/setup.mjs";

const GUEST_DIR = join(ROOT, "public", "guest");
const MIB = 1024 * 1024;
/** v86's HTTP disk (AsyncXHRBuffer) keeps written 256-byte blocks in its state. */
const V86_DISK_BLOCK = 256;
/** As v86's demo states are made: high zstd levels (the state is fetched whole). */
const ZSTD_LEVEL = 19;

/** Path of the compressed state for the built guest (made now when missing). */
export async function v86SavedState(log = (line) => console.error(line)) {
  const guest = JSON.parse(readFileSync(join(GUEST_DIR, "guest.json"), "utf8"));
  const out = join(ROOT, ".cache", "bench-start", `v86-state-${guest.inputsHash.slice(0, 16)}.bin.zst`);
  if (existsSync(out)) return { path: out, guest };
  const t0 = performance.now();
  const file = (f) => {
    const b = readFileSync(join(GUEST_DIR, f.path));
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  };
  const pristine = new Uint8Array(file(guest.files.disk));
  const require = createRequire(import.meta.url);
  const emulator = new V86({
    wasm_path: join(dirname(require.resolve("v86")), "v86.wasm"),
    memory_size: 128 * MIB,
    vga_memory_size: 4 * MIB,
    bios: { buffer: file(guest.files.bios) },
    vga_bios: { buffer: file(guest.files.vgaBios) },
    bzimage: { buffer: file(guest.files.bzimage) },
    initrd: { buffer: file(guest.files.initrd) },
    cmdline: guest.cmdline,
    hda: { buffer: pristine.slice().buffer },
    autostart: true,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
    uart1: true,
    filesystem: {},
    net_device: { type: "virtio", relay_url: "fetch" },
  });
  let automation = "";
  emulator.add_listener("serial1-output-byte", (b) => (automation += String.fromCharCode(b)));
  await new Promise((r) => emulator.add_listener("emulator-loaded", r));
  for (let attempt = 0; ; attempt++) {
    if (attempt > 400) throw new Error(`the guest's shell never answered: ${JSON.stringify(automation.slice(-200))}`);
    const marker = `up${attempt}x${Date.now().toString(36)}`;
    const from = automation.length;
    emulator.serial_send_bytes(1, new TextEncoder().encode(`true; echo ${marker.slice(0, 2)}''${marker.slice(2)}\n`));
    const deadline = performance.now() + 1500;
    while (performance.now() < deadline && !new RegExp(`${marker}\\r?\\n`).test(automation.slice(from))) await new Promise((r) => setTimeout(r, 20));
    if (new RegExp(`${marker}\\r?\\n`).test(automation.slice(from))) break;
  }
  await emulator.stop();
  const ide = emulator.v86.cpu.devices.ide.primary.master.buffer;
  const written = new Uint8Array(ide.buffer);
  const blocks = [];
  for (let at = 0; at < written.byteLength; at += V86_DISK_BLOCK) {
    if (Buffer.compare(written.subarray(at, at + V86_DISK_BLOCK), pristine.subarray(at, at + V86_DISK_BLOCK)) !== 0) blocks.push([at / V86_DISK_BLOCK, written.slice(at, at + V86_DISK_BLOCK)]);
  }
  ide.get_state = () => [blocks];
  const state = new Uint8Array(await emulator.save_state());
  await emulator.destroy();
  await init();
  const z = compress(state, ZSTD_LEVEL);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, z);
  log(`v86 saved state: ${(state.byteLength / MIB).toFixed(1)} MiB, ${(z.byteLength / MIB).toFixed(1)} MiB zstd -${ZSTD_LEVEL}, ${blocks.length} disk blocks; made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { path: out, guest };
}

/** A page like v86's demos: fetch the state whole, restore_state, ask the shell until it answers. */
export function demoPage(guest) {
  const f = guest.files;
  return `<!doctype html><meta charset="utf-8"><title>v86 saved state</title><script type="module">
import { V86 } from "/__v86-demo/libv86.mjs";
const t0 = performance.now();
const emulator = new V86({
  wasm_path: "/__v86-demo/v86.wasm",
  memory_size: ${128 * MIB},
  vga_memory_size: ${4 * MIB},
  bios: { url: "/guest/${f.bios.path}" },
  vga_bios: { url: "/guest/${f.vgaBios.path}" },
  hda: { url: "/guest/${f.disk.path}", async: true, size: ${f.disk.size} },
  initial_state: { url: "/__v86-demo/state.bin.zst" },
  autostart: true,
  disable_keyboard: true,
  disable_mouse: true,
  disable_speaker: true,
  uart1: true,
  filesystem: {},
  net_device: { type: "virtio", relay_url: "fetch" },
});
let automation = "";
emulator.add_listener("serial1-output-byte", (b) => (automation += String.fromCharCode(b)));
window.shellAnswered = new Promise((resolve) => {
  emulator.add_listener("emulator-started", async () => {
    for (let attempt = 0; ; attempt++) {
      const marker = "up" + attempt + "x" + Date.now().toString(36);
      const from = automation.length;
      emulator.serial_send_bytes(1, new TextEncoder().encode("true; echo " + marker.slice(0, 2) + "''" + marker.slice(2) + "\\n"));
      const re = new RegExp(marker + "\\\\r?\\\\n");
      const deadline = performance.now() + 1500;
      while (performance.now() < deadline && !re.test(automation.slice(from))) await new Promise((r) => setTimeout(r, 5));
      if (re.test(automation.slice(from))) return resolve(performance.now() - t0);
    }
  });
});
</script>`;
}
