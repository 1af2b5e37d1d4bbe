/**
 * One cold boot per run for the unit tests that only need a guest at its shell: the first test to
 * ask boots it and writes v86's whole saved state to .cache/unit-boot/; the others, in any vitest
 * worker, wait for that file and restore it. A Node boot of the guest takes ~15–30 s; four test
 * files each booting their own cost a quarter of the unit phase's wall time (185 s, now 139 s).
 *
 * The key holds everything the state depends on (the guest build, the v86 build, the caller's
 * machine options), so a rebuilt guest or another v86 never restores a stale state. A real boot
 * stays tested: lazy-restore-guest.test.ts boots the instrumented wasm from the BIOS, and every
 * browser test's page boots.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const DIR = join(ROOT, ".cache", "unit-boot");
/** Longer than any boot on a slow, loaded machine: a lock older than this was left by a dead run. */
const STALE_LOCK_MS = 10 * 60_000;

function keyOf(variant: string): string {
  const guest = readFileSync(join(ROOT, "public", "guest", "guest.json"));
  const v86 = readFileSync(join(ROOT, "node_modules", "v86", "package.json"));
  const wasm = statSync(join(ROOT, "node_modules", "v86", "build", "v86.wasm"));
  return createHash("sha256").update(guest).update(v86).update(String(wasm.size)).update(variant).digest("hex").slice(0, 24);
}

/**
 * The saved state of a guest booted to its shell, as `boot` makes it (it must stop the machine at
 * the prompt and return `save_state()`); `variant` names the machine options it boots with.
 */
export async function cachedBootState(variant: string, boot: () => Promise<ArrayBuffer>, timeoutMs = 600_000): Promise<ArrayBuffer> {
  mkdirSync(DIR, { recursive: true });
  const key = keyOf(variant);
  const file = join(DIR, `${variant}-${key}.state`);
  const lock = `${file}.lock`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(file)) return bufferOf(readFileSync(file));
    if (tryLock(lock)) break;
    if (Date.now() > deadline) throw new Error(`timed out waiting for another test's boot (${lock})`);
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    const state = await boot();
    // Older keys are states of an earlier guest or v86 build: nothing will read them again.
    for (const name of readdirSync(DIR)) if (name.startsWith(`${variant}-`) && !name.startsWith(`${variant}-${key}`)) rmSync(join(DIR, name), { force: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, new Uint8Array(state));
    renameSync(tmp, file); // whole or absent: a reader never sees half a state
    return state;
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Puts a machine created without autostart where a cached state left it, at the shell, running.
 * Its prompt was printed by the booting instance: a new line asks the shell for a fresh one.
 */
export async function restoreAtShell(
  emulator: { restore_state(state: ArrayBuffer): Promise<void>; run(): Promise<void>; serial0_send(data: string): void },
  state: ArrayBuffer,
): Promise<void> {
  await emulator.restore_state(state);
  await emulator.run();
  emulator.serial0_send("\n");
}

function tryLock(lock: string): boolean {
  try {
    closeSync(openSync(lock, "wx"));
    return true;
  } catch {
    // Held by a boot in progress, unless its run died and left it.
    try {
      if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
    } catch {
      /* removed meanwhile: the next round tries again */
    }
    return false;
  }
}

function bufferOf(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
