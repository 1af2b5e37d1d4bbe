// debootstrap's second stage runs the new i386 userland's own programs in a chroot (dpkg, the
// packages' scripts). Most x86-64 kernels run i386 programs themselves, but not every machine
// does: some kernels refuse them with "Exec format error" (seen on a machine of this workplace,
// 2026-12-02). There Debian's qemu-user-static runs them, registered with binfmt_misc under the
// "F" flag, so the kernel opens the interpreter once and it works inside the chroot too.
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureSystemPackages } from "../lib/system-packages.mjs";

const EXIT_CODE = 42;
const BINFMT = "/proc/sys/fs/binfmt_misc";
const QEMU_PACKAGE = "qemu-user-static";
const QEMU_I386 = "/usr/bin/qemu-i386-static";
/**
 * i386 ELF programs (executables and PIEs: the mask's 0xfe lets e_type 2 and 3 match), as QEMU's
 * own qemu-binfmt-conf.sh registers them. Debian's package ships no i386 entry for amd64 hosts,
 * which are expected to run i386 themselves. Flag "F": the kernel opens the interpreter at
 * registration, so it need not exist inside the chroot.
 */
export const I386_MAGIC = String.raw`\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00`;
export const I386_MASK = String.raw`\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff`;

/**
 * The smallest static i386 Linux program: one ELF header, one loadable segment, and
 * `mov eax, 1; mov ebx, 42; int 0x80` (exit(42)), so a run proves i386 code really ran.
 */
export function tinyI386Program() {
  const base = 0x08048000;
  const code = Buffer.from([0xb8, 0x01, 0, 0, 0, 0xbb, EXIT_CODE, 0, 0, 0, 0xcd, 0x80]);
  const b = Buffer.alloc(52 + 32 + code.length);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0); // ELF, 32-bit, little-endian, version 1
  b.writeUInt16LE(2, 16); // executable
  b.writeUInt16LE(3, 18); // i386
  b.writeUInt32LE(1, 20);
  b.writeUInt32LE(base + 84, 24); // entry: the code after both headers
  b.writeUInt32LE(52, 28); // program headers right after the ELF header
  b.writeUInt16LE(52, 40);
  b.writeUInt16LE(32, 42);
  b.writeUInt16LE(1, 44);
  b.writeUInt32LE(1, 52); // PT_LOAD of the whole file, read + execute
  b.writeUInt32LE(0, 56);
  b.writeUInt32LE(base, 60);
  b.writeUInt32LE(base, 64);
  b.writeUInt32LE(b.length, 68);
  b.writeUInt32LE(b.length, 72);
  b.writeUInt32LE(5, 76);
  b.writeUInt32LE(0x1000, 80);
  b.set(code, 84);
  return b;
}

/** Whether this machine runs i386 programs now (natively or through a registered emulator). */
export function runsI386() {
  const dir = mkdtempSync(join(tmpdir(), "snap86-i386-"));
  try {
    const path = join(dir, "exit42");
    writeFileSync(path, tinyI386Program());
    chmodSync(path, 0o755);
    return spawnSync(path, [], { stdio: "ignore" }).status === EXIT_CODE;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Makes i386 programs run (root only): nothing when they already do, else qemu-user-static. */
export function ensureI386Exec(log = (msg) => process.stdout.write(`${msg}\n`)) {
  if (runsI386()) return "native";
  log(`  this kernel does not run i386 programs: debootstrap's second stage runs under ${QEMU_PACKAGE}`);
  ensureSystemPackages({ guestPackages: null, browser: false, extra: [QEMU_PACKAGE] });
  if (!existsSync(join(BINFMT, "register"))) {
    const r = spawnSync("mount", ["-t", "binfmt_misc", "binfmt_misc", BINFMT], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`binfmt_misc could not be mounted at ${BINFMT}: ${r.stderr.trim()}`);
  }
  if (!existsSync(join(BINFMT, "qemu-i386"))) {
    if (!existsSync(QEMU_I386)) throw new Error(`${QEMU_I386} is missing although ${QEMU_PACKAGE} is installed`);
    writeFileSync(join(BINFMT, "register"), `:qemu-i386:M::${I386_MAGIC}:${I386_MASK}:${QEMU_I386}:F`);
  }
  if (!runsI386()) throw new Error(`i386 programs still do not run with ${QEMU_PACKAGE} registered (${BINFMT}/qemu-i386)`);
  return "qemu";
}
