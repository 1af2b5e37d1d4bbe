#!/usr/bin/env node
// Builds the guest that snap86 boots (public/guest/): Debian's i386 kernel, a busybox
// initramfs that loads the disk drivers, and an ext4 root disk with busybox on it.
//   node scripts/build-guest.mjs             build, or say "guest is up to date"
//   node scripts/build-guest.mjs --check     exit 0 if up to date, 1 if not (no apt, no writes)
//   node scripts/build-guest.mjs --force     rebuild even if up to date
//   node scripts/build-guest.mjs --update    run apt-get update before resolving packages
//   node scripts/build-guest.mjs --print-apt-deps   Debian packages holding the host tools

/** Debian packages that provide the host tools this script runs (CI installs these). */
export const APT_DEPS = ["apt", "dpkg", "kmod", "cpio", "e2fsprogs", "gzip"];

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, chmodSync, writeFileSync, copyFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { dependsNames, debFileName, parseAptShow } from "./guest/apt-packages.mjs";
import { blockHashList } from "./guest/block-hashes.mjs";
import { appletLinks, appletNamesFromBinary, fallbackAppletPaths, parseListFull } from "./guest/busybox-applets.mjs";
import { AUTOMATION_CONSOLE, INITRAMFS_DIRS, ROOTFS_DIRS, ROOTFS_LINKS, initScript, rootfsFiles } from "./guest/guest-files.mjs";
import { MANIFEST_NAME, buildManifest, builderSources, computeInputsHash, fileEntry, readManifest, sha256Hex, staleReason } from "./guest/manifest.mjs";
import { stripModuleSignature } from "./guest/module-signature.mjs";
import { moduleFileName, parseModulesBuiltin, parseModulesDep, resolveLoadOrder } from "./guest/modules-dep.mjs";
import { readKernelRngLayout } from "./guest/kernel-rng-layout.mjs";
import { BuildError, ext4Image, findTool, listTree, run, runAsScript, setTimes, timed, writeAtomic } from "./guest/build-tools.mjs";

const SCRIPTS_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(SCRIPTS_DIR);
const OUT_DIR = join(ROOT, "public", "guest");
const CACHE_DIR = join(ROOT, ".cache");
const DEB_DIR = join(CACHE_DIR, "guest-debs");
const WORK_DIR = join(CACHE_DIR, "guest-work");
/** apt-cache rebuilds its package cache on every call when none is kept (Docker images turn it
 * off); keeping one here makes the up-to-date path take ~0.3 s instead of ~0.9 s. */
const APT_PKGCACHE = join(CACHE_DIR, "apt-pkgcache.bin");

const KERNEL_META = "linux-image-686";
const ARCH = "i386";
/** Disk drivers for v86 (PIIX3 IDE -> ata_piix), the disk, and ext4; crc32c_generic because
 * mke2fs enables metadata_csum and nothing here would load it on demand. Then v86's virtio
 * devices: 9p over virtio for the host folder (/mnt/host, files in and out) and virtio-net for
 * the network (virtio rather than ne2k: one PCI transport serves both). */
const WANTED_MODULES = ["ata_piix", "sd_mod", "crc32c_generic", "ext4", "virtio_pci", "9pnet_virtio", "9p", "virtio_net"];
export const CMDLINE =
  "console=ttyS0 console=tty0 quiet cryptomgr.notests noisapnp tsc=reliable mitigations=off random.trust_cpu=on nowatchdog init_on_free=1";
/** v86's bzImage loader puts the initrd at 64 MiB, so memory must exceed 64 MiB + initrd. */
const MEMORY_MIB = 128;
const DISK_MIB = 128;
const DISK_BLOCK_SIZE = 65536;
/** Host tool -> the Debian package that provides it (every package is in APT_DEPS). */
const HOST_TOOLS = {
  "apt-get": "apt", "apt-cache": "apt", dpkg: "dpkg", "dpkg-deb": "dpkg", depmod: "kmod", cpio: "cpio",
  mke2fs: "e2fsprogs", debugfs: "e2fsprogs", gzip: "gzip",
};

function log(msg) {
  process.stdout.write(`${msg}\n`);
}

export function requireTools(names) {
  const tools = {};
  const missing = [];
  for (const n of names) {
    const p = findTool(n);
    if (p === null) missing.push(n);
    else tools[n] = p;
  }
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((n) => HOST_TOOLS[n]))];
    throw new BuildError(`missing host tools: ${missing.join(", ")}. Install them with: sudo apt-get install ${pkgs.join(" ")}`);
  }
  return tools;
}

// ---------- apt ----------

function aptCacheShow(tools, names) {
  mkdirSync(CACHE_DIR, { recursive: true });
  const r = run(tools["apt-cache"], ["-o", `Dir::Cache::pkgcache=${APT_PKGCACHE}`, "show", "--no-all-versions", ...names], {
    allowFail: true, // exits 100 if any one name is unknown; the others are still printed
  });
  const byName = new Map();
  for (const s of parseAptShow(r.stdout)) {
    const key = s.Architecture === "all" ? s.Package : `${s.Package}:${s.Architecture}`;
    if (!byName.has(key)) byName.set(key, s);
  }
  return byName;
}

function stanzaFor(byName, name) {
  return byName.get(name) ?? byName.get(name.replace(/:[a-z0-9]+$/, ""));
}

/**
 * Resolves the exact packages to use. `guessKernel` (from a previous guest.json) lets the
 * common case answer from one apt-cache call.
 * Returns null if apt does not know the packages (lists missing or i386 not enabled).
 */
function resolvePackages(tools, guessKernel) {
  const names = [`${KERNEL_META}:${ARCH}`, `busybox-static:${ARCH}`, "seabios"];
  if (guessKernel) names.push(`${guessKernel}:${ARCH}`);
  let byName = aptCacheShow(tools, names);
  const meta = stanzaFor(byName, `${KERNEL_META}:${ARCH}`);
  if (!meta) return null;
  const kernelName = dependsNames(meta.Depends).find((n) => n.startsWith("linux-image-"));
  if (!kernelName) throw new BuildError(`${KERNEL_META}:${ARCH} does not depend on a linux-image package (Depends: ${meta.Depends})`);
  if (!stanzaFor(byName, `${kernelName}:${ARCH}`)) byName = new Map([...byName, ...aptCacheShow(tools, [`${kernelName}:${ARCH}`])]);
  const pick = (name, role) => {
    const s = stanzaFor(byName, name);
    if (!s) return null;
    return { role, name: s.Package, version: s.Version, arch: s.Architecture, sha256: s.SHA256, size: Number(s.Size) };
  };
  const pkgs = [pick(`${kernelName}:${ARCH}`, "kernel"), pick(`busybox-static:${ARCH}`, "busybox"), pick("seabios", "bios")];
  return pkgs.every((p) => p !== null) ? pkgs : null;
}

function ensureI386(tools) {
  const archs = run(tools.dpkg, ["--print-foreign-architectures"]).stdout.split(/\s+/);
  if (archs.includes(ARCH)) return false;
  if (process.getuid?.() !== 0) {
    throw new BuildError(`apt has no ${ARCH} packages enabled. Run: sudo dpkg --add-architecture ${ARCH} && sudo apt-get update`);
  }
  log(`enabling ${ARCH} packages (dpkg --add-architecture ${ARCH})`);
  run(tools.dpkg, ["--add-architecture", ARCH]);
  return true;
}

function aptUpdate(tools) {
  if (process.getuid?.() !== 0) {
    throw new BuildError("apt's package lists do not have the guest packages. Run: sudo apt-get update");
  }
  log("apt-get update");
  // A mirror caught mid-sync makes apt-get update exit non-zero while the lists we need are
  // fine, so the exit code is not the verdict: resolving the packages afterwards is.
  const r = run(tools["apt-get"], ["update"], { allowFail: true, stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) log(`  apt-get update exited ${r.status}; carrying on if the packages resolve:\n${String(r.stderr).trim()}`);
}

function resolveOrUpdate(tools, { update, guessKernel }) {
  let needUpdate = ensureI386(tools) || update;
  if (!needUpdate) {
    const pkgs = resolvePackages(tools, guessKernel);
    if (pkgs) return pkgs;
    needUpdate = true;
  }
  aptUpdate(tools);
  const pkgs = resolvePackages(tools, guessKernel);
  if (!pkgs) {
    throw new BuildError(`apt cannot find ${KERNEL_META}:${ARCH}, busybox-static:${ARCH} and seabios even after apt-get update; check /etc/apt/sources.list(.d) has Debian main`);
  }
  return pkgs;
}

function cachedDebOk(pkg) {
  const path = join(DEB_DIR, debFileName(pkg));
  if (!existsSync(path) || statSync(path).size !== pkg.size) return false;
  return !pkg.sha256 || sha256Hex(readFileSync(path)) === pkg.sha256;
}

function downloadDebs(tools, pkgs, retried = false) {
  mkdirSync(DEB_DIR, { recursive: true });
  const todo = pkgs.filter((p) => !cachedDebOk(p));
  if (todo.length > 0) {
    const specs = todo.map((p) => `${p.name}:${p.arch}=${p.version}`);
    log(`  apt-get download ${specs.join(" ")}`);
    // As root apt drops to the _apt user, which cannot write into a checkout; download as root.
    const sandbox = process.getuid?.() === 0 ? ["-o", "APT::Sandbox::User=root"] : [];
    const r = run(tools["apt-get"], [...sandbox, "download", ...specs], { cwd: DEB_DIR, allowFail: true });
    if (r.status !== 0) {
      if (!retried && process.getuid?.() === 0) {
        log("  download failed; the package lists may be stale");
        aptUpdate(tools);
        return null; // caller re-resolves: versions may have moved on
      }
      throw new BuildError(`apt-get download ${specs.join(" ")} failed:\n${String(r.stderr).trim()}`);
    }
    for (const p of todo) if (!cachedDebOk(p)) throw new BuildError(`${debFileName(p)} does not match apt's size/SHA256 after download`);
  }
  return pkgs.map((p) => ({ ...p, deb: join(DEB_DIR, debFileName(p)) }));
}

// ---------- build steps ----------

function extract(tools, pkgs) {
  const dirs = {};
  for (const p of pkgs) {
    const dir = join(WORK_DIR, "pkg", p.role);
    mkdirSync(dir, { recursive: true });
    run(tools["dpkg-deb"], ["-x", p.deb, dir]);
    dirs[p.role] = dir;
  }
  return dirs;
}

function findKernel(kernelDir) {
  const boot = join(kernelDir, "boot");
  const vmlinuz = readdirSync(boot).filter((f) => f.startsWith("vmlinuz-"));
  if (vmlinuz.length !== 1) throw new BuildError(`expected one boot/vmlinuz-* in the kernel package, found ${vmlinuz.length}`);
  const release = vmlinuz[0].slice("vmlinuz-".length);
  const modDir = join(kernelDir, "lib", "modules", release);
  if (!existsSync(modDir)) throw new BuildError(`kernel package has no lib/modules/${release}`);
  return { release, bzimage: join(boot, vmlinuz[0]), modDir };
}

function resolveModules(tools, kernelDir, kernel) {
  // Debian's package ships no modules.dep (its postinst runs depmod), so make one.
  run(tools.depmod, ["-b", kernelDir, kernel.release]);
  const depMap = parseModulesDep(readFileSync(join(kernel.modDir, "modules.dep"), "utf8"));
  const builtinPath = join(kernel.modDir, "modules.builtin");
  const builtin = existsSync(builtinPath) ? parseModulesBuiltin(readFileSync(builtinPath, "utf8")) : new Set();
  return resolveLoadOrder(depMap, WANTED_MODULES, builtin);
}

function readModule(path) {
  if (path.endsWith(".ko")) return readFileSync(path);
  // Newer Debian kernels compress modules; a 6.1 one does not. Say so rather than guess.
  throw new BuildError(`${path}: compressed kernel modules are not supported by this builder yet`);
}

function busyboxAppletPaths(busyboxBin) {
  const r = spawnSync(busyboxBin, ["--list-full"], { encoding: "utf8" });
  if (r.status === 0 && r.stdout.includes("sbin/init")) return appletLinks(parseListFull(r.stdout));
  log("  cannot run the i386 busybox on this host; taking applet names from the binary");
  return appletLinks(fallbackAppletPaths(appletNamesFromBinary(readFileSync(busyboxBin))));
}

function makeTree(root, dirs) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (const [d, mode] of Object.entries(dirs)) {
    mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, d), mode);
  }
}

function installBusybox(root, busyboxBin, applets) {
  copyFileSync(busyboxBin, join(root, "bin", "busybox"));
  chmodSync(join(root, "bin", "busybox"), 0o755);
  for (const rel of applets) {
    const link = join(root, rel);
    mkdirSync(dirname(link), { recursive: true });
    if (existsSync(link)) continue;
    symlinkSync(relative(dirname(link), join(root, "bin", "busybox")), link);
  }
}

function buildInitramfs(tools, { busyboxBin, applets, kernel, modulePaths }) {
  const root = join(WORK_DIR, "initramfs");
  makeTree(root, INITRAMFS_DIRS);
  installBusybox(root, busyboxBin, applets);
  const names = [];
  let savedBytes = 0;
  for (const rel of modulePaths) {
    const name = moduleFileName(rel);
    const raw = readModule(join(kernel.modDir, rel));
    const { data, stripped } = stripModuleSignature(raw);
    if (!stripped) log(`  note: ${name} had no module signature to strip`);
    savedBytes += raw.byteLength - data.byteLength;
    writeFileSync(join(root, "lib", "modules", `${name}.ko`), data);
    names.push(name);
  }
  writeFileSync(join(root, "init"), initScript(names), { mode: 0o755 });
  chmodSync(join(root, "init"), 0o755);
  const paths = listTree(root);
  setTimes(root, paths);
  const cpio = run(tools.cpio, ["-o", "-H", "newc", "-R", "0:0", "--reproducible", "--quiet"], {
    cwd: root, input: Buffer.from(`${paths.join("\n")}\n`), encoding: "buffer",
  }).stdout;
  // gzip -9 -n (-n keeps names and times out). Measured guest instructions to the prompt under
  // v86: gzip 2871 M, lz4 -l 2801 M, zstd -19 2912 M, none 2781 M, xz 3361 M. lz4 would save
  // ~2.5 % of boot work but adds 0.3 MB (2.1 vs 1.8 MB) and a host tool, so gzip stays.
  const gz = run(tools.gzip, ["-9", "-n", "-c"], { input: cpio, encoding: "buffer" }).stdout;
  return { data: gz, modules: names, savedBytes, cpioBytes: cpio.byteLength };
}

function buildRootfs(tools, { busyboxBin, applets }) {
  const root = join(WORK_DIR, "rootfs");
  makeTree(root, ROOTFS_DIRS);
  installBusybox(root, busyboxBin, applets);
  for (const [rel, [mode, text]] of Object.entries(rootfsFiles())) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
    chmodSync(join(root, rel), mode);
  }
  for (const [rel, target] of Object.entries(ROOTFS_LINKS)) symlinkSync(target, join(root, rel));
  return ext4Image(tools, root, join(WORK_DIR, "rootfs.ext4"), DISK_MIB);
}

function build(tools, pkgs, inputsHash) {
  rmSync(WORK_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });
  // A guest.json next to half-replaced files would claim a guest that does not exist.
  rmSync(join(OUT_DIR, MANIFEST_NAME), { force: true });

  const dirs = timed("extract", () => extract(tools, pkgs));
  const kernel = findKernel(dirs.kernel);
  const modulePaths = timed("depmod + module order", () => resolveModules(tools, dirs.kernel, kernel));
  const busyboxBin = join(dirs.busybox, "bin", "busybox");
  const applets = busyboxAppletPaths(busyboxBin);
  const initrd = timed("initramfs", () => buildInitramfs(tools, { busyboxBin, applets, kernel, modulePaths }));
  const disk = timed("root disk", () => buildRootfs(tools, { busyboxBin, applets }));

  const seabiosDir = join(dirs.bios, "usr", "share", "seabios");
  const outputs = {
    bios: ["bios.bin", readFileSync(join(seabiosDir, "bios.bin"))],
    vgaBios: ["vgabios.bin", readFileSync(join(seabiosDir, "vgabios-stdvga.bin"))],
    bzimage: ["bzImage", readFileSync(kernel.bzimage)],
    initrd: ["initrd.img", initrd.data],
    disk: ["rootfs.ext4", disk],
  };
  const files = {};
  timed("write + hash", () => {
    for (const [key, [name, data]] of Object.entries(outputs)) {
      writeAtomic(join(OUT_DIR, name), data);
      files[key] = fileEntry(name, data);
    }
    const blocksName = "rootfs.ext4.blocks.json";
    writeAtomic(join(OUT_DIR, blocksName), `${JSON.stringify(blockHashList(disk, DISK_BLOCK_SIZE))}\n`);
    files.disk = { ...files.disk, blockSize: DISK_BLOCK_SIZE, blocks: blocksName };
  });
  const manifest = buildManifest({
    packages: pkgs.map((p) => ({ name: p.name, version: p.version, arch: p.arch })),
    kernelRelease: kernel.release,
    cmdline: CMDLINE,
    memoryMiB: MEMORY_MIB,
    modules: initrd.modules,
    files,
    inputsHash,
    automationConsole: AUTOMATION_CONSOLE,
  });
  writeAtomic(join(OUT_DIR, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(WORK_DIR, { recursive: true, force: true });
  log(`  modules (load order): ${initrd.modules.join(" ")}`);
  log(`  module signatures stripped: ${(initrd.savedBytes / 1024).toFixed(0)} KiB; cpio ${(initrd.cpioBytes / 1e6).toFixed(2)} MB`);
  for (const [name, data] of Object.values(outputs)) log(`  ${name}: ${data.byteLength} bytes`);
  return manifest;
}

// ---------- entry ----------

function inputsHashFor(pkgs) {
  return computeInputsHash(pkgs.map((p) => ({ name: p.name, version: p.version, arch: p.arch })), builderSources(SCRIPTS_DIR));
}

export function main(argv) {
  const flags = new Set(argv);
  for (const f of flags) {
    if (!["--check", "--force", "--update", "--print-apt-deps"].includes(f)) {
      throw new BuildError(`unknown option ${f} (use --check, --force, --update or --print-apt-deps)`);
    }
  }
  if (flags.has("--print-apt-deps")) {
    log(APT_DEPS.join(" "));
    return 0;
  }
  const existing = readManifest(OUT_DIR);
  if (flags.has("--check")) {
    // No apt: the versions recorded in guest.json stand in for "what would be built".
    const reason = existing ? staleReason(OUT_DIR, existing, inputsHashFor(existing.packages)) : `${MANIFEST_NAME} is missing`;
    if (reason) process.stderr.write(`guest is not up to date: ${reason}\n`);
    else log("guest is up to date");
    return reason ? 1 : 0;
  }

  const t0 = performance.now();
  const tools = requireTools(Object.keys(HOST_TOOLS));
  const guessKernel = existing?.packages?.find((p) => p.name?.startsWith("linux-image-"))?.name;
  let pkgs = resolveOrUpdate(tools, { update: flags.has("--update"), guessKernel });
  const inputsHash = inputsHashFor(pkgs);
  if (!flags.has("--force") && existing) {
    const reason = staleReason(OUT_DIR, existing, inputsHash);
    if (reason === null) {
      log("guest is up to date");
      return 0;
    }
    log(`rebuilding the guest: ${reason}`);
  }
  log(`building the guest from ${pkgs.map((p) => `${p.name}:${p.arch} ${p.version}`).join(", ")}`);
  let withDebs = timed("download", () => downloadDebs(tools, pkgs));
  if (withDebs === null) {
    pkgs = resolveOrUpdate(tools, { update: false, guessKernel });
    withDebs = downloadDebs(tools, pkgs, true);
  }
  const manifest = build(tools, withDebs, inputsHashFor(pkgs));
  // Last, from a boot of what was just built; guest.json is rewritten with it (see kernel-rng-layout.mjs).
  let kernelRng;
  try {
    kernelRng = timed("kernel CRNG layout (headless boot)", () => readKernelRngLayout(OUT_DIR));
  } catch (e) {
    // Without it the build is not complete: the next run builds again rather than trusting it.
    rmSync(join(OUT_DIR, MANIFEST_NAME), { force: true });
    throw new BuildError(e instanceof Error ? e.message : String(e));
  }
  writeAtomic(join(OUT_DIR, MANIFEST_NAME), `${JSON.stringify({ ...manifest, kernelRng }, null, 2)}\n`);
  log(`  kernel ${manifest.kernelRelease}: crng_reseed at entry_SYSENTER_32 ${kernelRng.reseedFromSysenter}, ${kernelRng.reseedBytes} bytes`);
  log(`guest built in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${relative(process.cwd(), OUT_DIR) || "."}`);
  return 0;
}

runAsScript(import.meta.url, "build-guest", main);
