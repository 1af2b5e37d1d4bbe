// The test images: real boot media built from Debian packages, no internet. Browser tests and
// `bench:images` boot them as a user would (by URL and as a file). Rebuilt only when an input
// changes (package versions, the nasm source, this script): `.cache/test-images/images.json`
// records the inputs' hash beside the catalog the tests read.
//   counter-floppy.img  nasm real-mode program, 1.44 MB floppy: prints a counter (screen + COM1)
//   counter-disk.img    the same program behind an MBR partition table, 4 MiB hard disk
//   counter-cd.iso      the same program as an El Torito no-emulation CD
//   pae-floppy.img      nasm program in protected mode with PAE paging (2 MiB and 4 KiB pages,
//                       RAM reached through non-identity aliases): a counter and a checksum over
//                       4 MiB it keeps rewriting (screen + COM1)
//   grub-floppy.img     GRUB's rescue floppy (grub-rescue-pc), padded to a 1.44 MB geometry
//   grub-cd.iso         GRUB's rescue CD (grub-rescue-pc)
//   memtest.iso         memtest86+ (ia32 ISO): enables paging and PAE
//   mini.iso            the Debian installer's i386 netboot kernel and initrd on an ISOLINUX CD,
//                       as Debian's own mini.iso is built (text mode, no quiet: the screen shows it)
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const TEST_IMAGE_PACKAGES = ["nasm", "xorriso", "isolinux", "syslinux-common", "grub-rescue-pc", "memtest86+", "debian-installer-12-netboot-i386"];

const HERE = new URL(".", import.meta.url).pathname;
const ROOT = join(HERE, "..", "..");
export const TEST_IMAGES_DIR = join(ROOT, ".cache", "test-images");
const ASM = join(ROOT, "scripts", "test-images", "counter.asm");
const PAE_ASM = join(ROOT, "scripts", "test-images", "pae.asm");
/** What the programs %include. */
const ASM_INCLUDE = join(ROOT, "scripts", "test-images", "test-program.inc");
const nasm = (out, source, defines = []) => run("nasm", ["-f", "bin", "-i", join(ROOT, "scripts", "test-images") + "/", ...defines, "-o", out, source]);
const FLOPPY_144 = 1474560;
const NETBOOT = "/usr/lib/debian-installer/images/12/i386/text/debian-installer/i386";

/**
 * name → what a test waits for on the guest's screen once it booted (a text only the right
 * program shows), the drive it belongs in, and whether it is built from Debian's files or ours.
 */
export const TEST_IMAGES = [
  { name: "counter-floppy.img", kind: "fda", shows: "snap86 counter on drive 00", mode: "real" },
  { name: "counter-disk.img", kind: "hda", shows: "snap86 counter on drive 80", mode: "real" },
  { name: "counter-cd.iso", kind: "cdrom", shows: "snap86 counter on drive", mode: "real" },
  { name: "pae-floppy.img", kind: "fda", shows: "snap86 pae counter on drive 00", mode: "pae" },
  { name: "grub-floppy.img", kind: "fda", shows: "GNU GRUB", mode: "protected" },
  { name: "grub-cd.iso", kind: "cdrom", shows: "GNU GRUB", mode: "protected" },
  { name: "memtest.iso", kind: "cdrom", shows: "Memtest86+", mode: "paging" },
  { name: "mini.iso", kind: "cdrom", shows: "Linux version", mode: "paging", serial: true },
];

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status}): ${r.stderr || r.error?.message || ""}`);
  return r.stdout;
}

function packageVersions() {
  return run("dpkg-query", ["-W", "-f=${Package}=${Version}\n", ...TEST_IMAGE_PACKAGES]).trim();
}

function inputsHash() {
  const h = createHash("sha256");
  h.update(packageVersions());
  h.update(readFileSync(ASM));
  h.update(readFileSync(PAE_ASM));
  h.update(readFileSync(ASM_INCLUDE));
  h.update(readFileSync(new URL(import.meta.url)));
  return h.digest("hex");
}

function padTo(file, size) {
  const data = readFileSync(file);
  if (data.byteLength > size) throw new Error(`${file} has ${data.byteLength} bytes, more than ${size}`);
  const out = Buffer.alloc(size);
  data.copy(out);
  writeFileSync(file, out);
}

function isoWithBootImage(out, dir, bootImage, extra = []) {
  run("xorriso", ["-as", "mkisofs", "-quiet", "-o", out, "-b", bootImage, "-c", "boot.cat", "-no-emul-boot", "-boot-load-size", "4", ...extra, dir]);
}

function build(dir) {
  // New files, never writes into old ones: a cache copied with hard links (a worktree's .cache
  // linked to another's) would otherwise change the other checkout's images under its tests.
  for (const i of TEST_IMAGES) rmSync(join(dir, i.name), { force: true });
  const work = join(dir, "work");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // The counter, three ways.
  nasm(join(dir, "counter-floppy.img"), ASM);
  padTo(join(dir, "counter-floppy.img"), FLOPPY_144);
  nasm(join(dir, "counter-disk.img"), ASM, ["-D", "HARDDISK"]);
  padTo(join(dir, "counter-disk.img"), 4 * 1024 * 1024);
  const cdRoot = join(work, "counter-cd");
  mkdirSync(cdRoot);
  nasm(join(cdRoot, "counter.bin"), ASM);
  padTo(join(cdRoot, "counter.bin"), 2048); // -boot-load-size 4: the BIOS loads four 512-byte sectors
  isoWithBootImage(join(dir, "counter-cd.iso"), cdRoot, "counter.bin");
  nasm(join(dir, "pae-floppy.img"), PAE_ASM);
  padTo(join(dir, "pae-floppy.img"), FLOPPY_144);
  // GRUB's rescue media; the floppy is 1266 KiB, which no floppy drive has: pad to 1.44 MB.
  copyFileSync("/usr/lib/grub-rescue/grub-rescue-floppy.img", join(dir, "grub-floppy.img"));
  padTo(join(dir, "grub-floppy.img"), FLOPPY_144);
  copyFileSync("/usr/lib/grub-rescue/grub-rescue-cdrom.iso", join(dir, "grub-cd.iso"));
  copyFileSync("/usr/lib/memtest86+/memtest86+ia32.iso", join(dir, "memtest.iso"));
  // mini.iso: ISOLINUX boots the installer's kernel straight away, text console on screen and COM1.
  const mini = join(work, "mini");
  mkdirSync(mini);
  copyFileSync("/usr/lib/ISOLINUX/isolinux.bin", join(mini, "isolinux.bin"));
  copyFileSync("/usr/lib/syslinux/modules/bios/ldlinux.c32", join(mini, "ldlinux.c32"));
  copyFileSync(join(NETBOOT, "linux"), join(mini, "linux"));
  copyFileSync(join(NETBOOT, "initrd.gz"), join(mini, "initrd.gz"));
  writeFileSync(
    join(mini, "isolinux.cfg"),
    "default install\nprompt 0\ntimeout 0\nlabel install\n  kernel /linux\n  append initrd=/initrd.gz vga=normal console=ttyS0 console=tty0 ---\n",
  );
  isoWithBootImage(join(dir, "mini.iso"), mini, "isolinux.bin", ["-boot-info-table"]);
  rmSync(work, { recursive: true, force: true });
}

/** Builds what is missing or stale; returns the catalog (name, kind, size, sha256, shows, mode). */
export function buildTestImages({ log = console.log } = {}) {
  const catalogFile = join(TEST_IMAGES_DIR, "images.json");
  const inputs = inputsHash();
  if (existsSync(catalogFile)) {
    const old = JSON.parse(readFileSync(catalogFile, "utf8"));
    if (old.inputs === inputs && old.images.every((i) => existsSync(join(TEST_IMAGES_DIR, i.name)))) return old.images;
  }
  log("snap86: building the test images (nasm, GRUB rescue, memtest86+, the Debian installer)");
  mkdirSync(TEST_IMAGES_DIR, { recursive: true });
  build(TEST_IMAGES_DIR);
  const images = TEST_IMAGES.map((i) => {
    const data = readFileSync(join(TEST_IMAGES_DIR, i.name));
    return { ...i, size: data.byteLength, sha256: createHash("sha256").update(data).digest("hex") };
  });
  rmSync(catalogFile, { force: true });
  writeFileSync(catalogFile, JSON.stringify({ inputs, images }, null, 2) + "\n");
  return images;
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  for (const i of buildTestImages()) console.log(`${i.name} ${i.kind} ${i.size}`);
}
