#!/usr/bin/env node
// Boots the built guest (public/guest/) in Node with v86, no browser: waits for the serial
// shell prompt, runs `uname -m`, expects i686. Proves a build works end to end.
//   node scripts/boot-node.mjs [--timeout SECONDS] [--quiet] [--guest DIR] [--exec CMD]...
// Each --exec command runs after the check, its output printed. Exit 0 on success; 1 with
// the serial tail on a timeout or a wrong answer.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { V86 } from "v86";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

function parseArgs(argv) {
  const opts = { timeoutS: 120, quiet: false, guestDir: join(ROOT, "public", "guest"), exec: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--timeout") opts.timeoutS = Number(argv[++i]);
    else if (a === "--quiet") opts.quiet = true;
    else if (a === "--guest") opts.guestDir = resolve(argv[++i]);
    else if (a === "--exec") opts.exec.push(argv[++i]);
    else throw new Error(`unknown option ${a} (use --timeout SECONDS, --quiet, --guest DIR, --exec CMD)`);
  }
  if (!(opts.timeoutS > 0)) throw new Error("--timeout needs a positive number of seconds");
  return opts;
}

function loadGuest(dir) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, "guest.json"), "utf8"));
  } catch (e) {
    throw new Error(`no usable ${join(dir, "guest.json")} (${e.message}); run npm run build:guest first`);
  }
  const buf = (f) => {
    const b = readFileSync(join(dir, f.path));
    if (b.byteLength !== f.size) throw new Error(`${f.path} has ${b.byteLength} bytes, guest.json says ${f.size}`);
    // v86 wants an ArrayBuffer of exactly the file (Node may hand out a slice of a pool).
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  };
  const f = manifest.files;
  return {
    manifest,
    bios: buf(f.bios),
    vgaBios: buf(f.vgaBios),
    bzimage: buf(f.bzimage),
    initrd: buf(f.initrd),
    disk: buf(f.disk),
  };
}

/** Resolves when `pattern` appears in the serial output after `from` (an offset into it). */
function waitForSerial(state, pattern, from) {
  return new Promise((resolveWait) => {
    const check = () => {
      const idx = state.text.indexOf(pattern, from);
      if (idx >= 0) {
        state.listeners.delete(check);
        resolveWait(idx + pattern.length);
      }
    };
    state.listeners.add(check);
    check();
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const guest = loadGuest(opts.guestDir);
  const require = createRequire(import.meta.url);
  const wasmPath = join(dirname(require.resolve("v86")), "v86.wasm");

  const t0 = performance.now();
  const emulator = new V86({
    wasm_path: wasmPath,
    memory_size: guest.manifest.memoryMiB * 1024 * 1024,
    vga_memory_size: 2 * 1024 * 1024,
    bios: { buffer: guest.bios },
    vga_bios: { buffer: guest.vgaBios },
    bzimage: { buffer: guest.bzimage },
    initrd: { buffer: guest.initrd },
    hda: { buffer: guest.disk },
    cmdline: guest.manifest.cmdline,
    autostart: true,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
    uart1: true, // COM2, as in the app: the guest runs its automation shell there
  });

  const serial = { text: "", listeners: new Set() };
  const decoder = new TextDecoder();
  emulator.add_listener("serial0-output-byte", (byte) => {
    const ch = decoder.decode(new Uint8Array([byte]), { stream: true });
    serial.text += ch;
    if (!opts.quiet) process.stdout.write(ch);
    for (const l of [...serial.listeners]) l();
  });

  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${opts.timeoutS} s`)), opts.timeoutS * 1000);
  });

  try {
    const run = (async () => {
      const afterPrompt = await waitForSerial(serial, "# ", 0);
      const bootS = (performance.now() - t0) / 1000;
      // Guest instructions are a load-independent measure of boot work (wall time on a
      // shared machine varies by 2x); idle time in hlt does not count.
      const instructions = emulator.get_instruction_counter();
      emulator.serial0_send("uname -m\n");
      const afterAnswer = await waitForSerial(serial, "# ", afterPrompt);
      const answer = serial.text.slice(afterPrompt, afterAnswer);
      let from = afterAnswer;
      for (const cmd of opts.exec) {
        emulator.serial0_send(`${cmd}\n`);
        const end = await waitForSerial(serial, "# ", from);
        if (opts.quiet) process.stdout.write(serial.text.slice(from, end));
        from = end;
      }
      return { bootS, instructions, answer, cmdMs: performance.now() - t0 - bootS * 1000 };
    })();
    const { bootS, instructions, answer, cmdMs } = await Promise.race([run, timeout]);
    // The initramfs rescue shell also prints "# "; it must not count as a booted guest.
    if (serial.text.includes("rescue shell")) throw new Error("the guest fell back to the initramfs rescue shell");
    if (!/\bi686\b/.test(answer)) throw new Error(`uname -m did not answer i686: ${JSON.stringify(answer)}`);
    process.stdout.write(
      `\nboot-node: serial prompt after ${bootS.toFixed(1)} s (${(instructions / 1e6).toFixed(0)} M guest instructions); uname -m = i686 (${cmdMs.toFixed(0)} ms)\n`,
    );
    return 0;
  } catch (e) {
    process.stderr.write(`\nboot-node: ${e.message}\n--- last serial output ---\n${serial.text.slice(-2000)}\n---\n`);
    return 1;
  } finally {
    clearTimeout(timer);
    await emulator.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`boot-node: ${e.message}\n`);
    process.exit(1);
  },
);
