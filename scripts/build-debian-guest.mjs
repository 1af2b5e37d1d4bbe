#!/usr/bin/env node
// Builds the "debian" guest (public/guest/debian/): a Debian bookworm i386 userland made by
// debootstrap from this machine's own apt sources, on the busybox guest's kernel and initramfs
// (public/guest/, built first by build-guest.mjs). Its guest.json lists every installed package.
//   node scripts/build-debian-guest.mjs           build, or say "debian guest is up to date"
//   node scripts/build-debian-guest.mjs --check   exit 0 if up to date, 1 if not
//   node scripts/build-debian-guest.mjs --force   rebuild even if up to date
// debootstrap unpacks as root (device nodes, owners): as another user it says what to run.

import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync, copyFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { BuildError, ext4Image, findTool, run, runAsScript, timed, writeAtomic } from "./guest/build-tools.mjs";
import { blockHashList } from "./guest/block-hashes.mjs";
import { DEBIAN_DISK_MIB, DEBIAN_INCLUDE, DEBIAN_PRUNE, DEBIAN_SUITE, debianFiles, debianMirror } from "./guest/debian-files.mjs";
import { HOST_FOLDER, ROOTFS_LINKS } from "./guest/guest-files.mjs";
import { ensureI386Exec } from "./guest/i386-exec.mjs";
import { MANIFEST_NAME, computeInputsHash, fileEntry, readManifest, staleReason } from "./guest/manifest.mjs";

const SCRIPTS_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(SCRIPTS_DIR);
const BASE_DIR = join(ROOT, "public", "guest");
const OUT_DIR = join(BASE_DIR, "debian");
const CACHE_DIR = join(ROOT, ".cache");
const DEB_CACHE = join(CACHE_DIR, "debian-debs");
const WORK_DIR = join(CACHE_DIR, "debian-work");
const DISK_BLOCK_SIZE = 65536;
export const APT_DEPS = ["debootstrap"];
/** Shared with the busybox guest, byte for byte (hard links where the filesystem allows). */
const SHARED_FILES = ["bios", "vgaBios", "bzimage", "initrd"];

const log = (msg) => process.stdout.write(`${msg}\n`);

function builderSources() {
  return ["build-debian-guest.mjs", "guest/build-tools.mjs", "guest/debian-files.mjs", "guest/guest-files.mjs"].map((rel) => ({ rel, text: readFileSync(join(SCRIPTS_DIR, rel)) }));
}

function aptSources() {
  const texts = [];
  for (const p of ["/etc/apt/sources.list"]) if (existsSync(p)) texts.push(readFileSync(p, "utf8"));
  const d = "/etc/apt/sources.list.d";
  if (existsSync(d)) for (const f of readdirSync(d).sort()) if (/\.(list|sources)$/.test(f)) texts.push(readFileSync(join(d, f), "utf8"));
  return texts;
}

/**
 * What decides the image: the builder's sources, the base guest (kernel, initramfs), and the
 * versions apt offers now for the packages asked for (a new python3 or curl means a rebuild;
 * their dependencies' versions are recorded in guest.json after the build).
 */
function inputsHash(base) {
  const r = run("apt-cache", ["show", "--no-all-versions", ...DEBIAN_INCLUDE.map((p) => `${p}:i386`)], { allowFail: true });
  const versions = [...String(r.stdout).matchAll(/^Package: (\S+)[\s\S]*?^Version: (\S+)/gm)].map((m) => ({ name: m[1], version: m[2], arch: "i386" }));
  return computeInputsHash([...versions, { name: "base-guest", version: base.inputsHash, arch: "all" }], builderSources());
}

function installedPackages(root) {
  const out = run("chroot", [root, "dpkg-query", "-W", "-f=${Package}\\t${Version}\\t${Architecture}\\n"]).stdout;
  return out.trim().split("\n").map((l) => l.split("\t")).map(([name, version, arch]) => ({ name, version, arch })).sort((a, b) => (a.name < b.name ? -1 : 1));
}

function debootstrap(root, mirror) {
  rmSync(WORK_DIR, { recursive: true, force: true });
  mkdirSync(DEB_CACHE, { recursive: true });
  const tool = findTool("debootstrap");
  if (!tool) throw new BuildError("debootstrap is missing. Install it with: sudo apt-get install debootstrap");
  run(tool, ["--arch=i386", "--variant=minbase", `--include=${DEBIAN_INCLUDE.join(",")}`, `--cache-dir=${DEB_CACHE}`, DEBIAN_SUITE, root, mirror]);
}

function customize(root) {
  for (const rel of DEBIAN_PRUNE) {
    rmSync(join(root, rel), { recursive: true, force: true });
    mkdirSync(join(root, rel), { recursive: true });
  }
  mkdirSync(join(root, HOST_FOLDER.slice(1)), { recursive: true });
  for (const [rel, [mode, text]] of Object.entries(debianFiles())) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    rmSync(join(root, rel), { force: true });
    writeFileSync(join(root, rel), text);
    chmodSync(join(root, rel), mode);
  }
  for (const [rel, target] of Object.entries(ROOTFS_LINKS)) {
    rmSync(join(root, rel), { force: true });
    run("ln", ["-s", target, join(root, rel)]);
  }
  // Logs and caches of the build itself are not part of the guest.
  rmSync(join(root, "debootstrap"), { recursive: true, force: true });
}

function shareFile(name) {
  const from = join(BASE_DIR, name);
  const to = join(OUT_DIR, name);
  rmSync(to, { force: true });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

export function main(argv) {
  const flags = new Set(argv);
  const base = readManifest(BASE_DIR);
  if (!base) throw new BuildError(`build the busybox guest first (node scripts/build-guest.mjs): ${BASE_DIR}/${MANIFEST_NAME} is missing`);
  const existing = readManifest(OUT_DIR);
  const hash = inputsHash(base);
  const reason = existing ? staleReason(OUT_DIR, existing, hash) : `${MANIFEST_NAME} is missing`;
  if (flags.has("--check")) {
    if (reason) process.stderr.write(`debian guest is not up to date: ${reason}\n`);
    else log("debian guest is up to date");
    return reason ? 1 : 0;
  }
  if (!reason && !flags.has("--force")) {
    log("debian guest is up to date");
    return 0;
  }
  if (process.getuid?.() !== 0) throw new BuildError("debootstrap needs root: run sudo node scripts/build-debian-guest.mjs");
  const mirror = debianMirror(aptSources());
  if (!mirror) throw new BuildError(`no apt source for Debian ${DEBIAN_SUITE} in /etc/apt/sources.list(.d)`);
  const t0 = performance.now();
  log(`building the debian guest (${reason ?? "forced"})`);
  const root = join(WORK_DIR, "root");
  try {
    ensureI386Exec(log);
  } catch (e) {
    throw new BuildError(`debootstrap runs the guest's i386 programs, and this machine cannot: ${e instanceof Error ? e.message : e}`);
  }
  timed("debootstrap", () => debootstrap(root, mirror));
  const packages = installedPackages(root);
  timed("customize", () => customize(root));
  const disk = timed("root disk", () => ext4Image({ mke2fs: findTool("mke2fs"), debugfs: findTool("debugfs") }, root, join(WORK_DIR, "rootfs.ext4"), DEBIAN_DISK_MIB, "snap86-debian"));
  mkdirSync(OUT_DIR, { recursive: true });
  rmSync(join(OUT_DIR, MANIFEST_NAME), { force: true });
  const files = {};
  timed("write + hash", () => {
    for (const key of SHARED_FILES) {
      shareFile(base.files[key].path);
      files[key] = base.files[key];
    }
    writeAtomic(join(OUT_DIR, "rootfs.ext4"), disk);
    const blocksName = "rootfs.ext4.blocks.json";
    writeAtomic(join(OUT_DIR, blocksName), `${JSON.stringify(blockHashList(disk, DISK_BLOCK_SIZE))}\n`);
    files.disk = { ...fileEntry("rootfs.ext4", disk), blockSize: DISK_BLOCK_SIZE, blocks: blocksName };
  });
  const manifest = {
    schema: 1, name: `snap86 Debian ${DEBIAN_SUITE} i386`, packages: [...base.packages.filter((p) => p.name.startsWith("linux-image") || p.name === "seabios"), ...packages],
    kernelRelease: base.kernelRelease, cmdline: base.cmdline, memoryMiB: base.memoryMiB, modules: base.modules, files, inputsHash: hash,
    automationConsole: base.automationConsole,
    // The same kernel: the layout the busybox guest's build read from it.
    ...(base.kernelRng ? { kernelRng: base.kernelRng } : {}),
  };
  writeAtomic(join(OUT_DIR, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(WORK_DIR, { recursive: true, force: true });
  log(`  ${packages.length} packages; rootfs.ext4: ${disk.byteLength} bytes`);
  log(`debian guest built in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${relative(process.cwd(), OUT_DIR) || "."}`);
  return 0;
}

runAsScript(import.meta.url, "build-debian-guest", main);
