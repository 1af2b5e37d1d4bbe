// What src/v86/guest-rng.ts needs to give every clone of the guest fresh randomness: where the
// kernel's crng_reseed() lies relative to entry_SYSENTER_32, and its length. Debian's kernel has
// no System.map (the real one is in the -dbg package) and its data symbols are not in kallsyms,
// so the guest build boots the guest it just built (headless, scripts/boot-node.mjs) and reads
// the three text symbols from /proc/kallsyms. KASLR moves all of them by one offset, so the
// differences hold for every boot of this kernel build. Read once per build: a new Debian kernel
// gets its layout without anyone editing a table.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPTS_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
const BOOT_TIMEOUT_S = 300;

/**
 * The guest's shell prints "CRNG:<crng_reseed>:<the next symbol>:<entry_SYSENTER_32>", in one
 * pass over /proc/kallsyms (the emulated awk reads ~100,000 lines). The kernel's own symbols come
 * in address order (its lookups depend on it), so the line after crng_reseed is the next symbol;
 * the parser below still checks that it lies above.
 */
export const KALLSYMS_COMMAND = `awk '$3 == "crng_reseed" { r = $1; getline; n = $1 } $3 == "entry_SYSENTER_32" { s = $1 } END { print "CRNG:" r ":" n ":" s }' /proc/kallsyms`;

/** The layout from the command's output (the echoed command line itself does not match). */
export function parseKernelRngLayout(output) {
  const m = /CRNG:([0-9a-f]{8}):([0-9a-f]{8}):([0-9a-f]{8})/.exec(output);
  if (!m) return null;
  const [reseed, next, sysenter] = m.slice(1).map((h) => parseInt(h, 16));
  if (next <= reseed || next - reseed > 0x1000) return null;
  return { reseedFromSysenter: reseed - sysenter, reseedBytes: next - reseed };
}

/** Boots the guest in `guestDir` and reads its kernel's layout; throws with the boot's output when it cannot. */
export function readKernelRngLayout(guestDir) {
  const r = spawnSync(
    process.execPath,
    [join(SCRIPTS_DIR, "boot-node.mjs"), "--quiet", "--timeout", String(BOOT_TIMEOUT_S), "--guest", guestDir, "--exec", KALLSYMS_COMMAND],
    { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
  );
  const layout = r.status === 0 ? parseKernelRngLayout(r.stdout) : null;
  if (!layout) throw new Error(`could not read the kernel's CRNG layout from a boot (exit ${r.status}): ${`${r.stdout}${r.stderr}`.slice(-1500)}`);
  return layout;
}
