// Helpers shared by the guest builders (build-guest.mjs, build-debian-guest.mjs): running host
// tools, timing steps, atomic writes, and a reproducible ext4 image of a directory tree.
import { spawnSync } from "node:child_process";
import { accessSync, constants, lstatSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** Fixed identity and time so two builds of the same inputs give the same bytes. */
const DISK_UUID = "5a9b8600-0000-4000-8000-000000000086";
const DISK_HASH_SEED = "5a9b8600-0000-4000-8000-000000000087";
export const SOURCE_DATE_EPOCH = 1704067200; // 2024-01-01T00:00:00Z

export class BuildError extends Error {}

function log(msg) {
  process.stdout.write(`${msg}\n`);
}

export function findTool(name) {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
  for (const d of dirs) {
    if (d === "") continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* try the next directory */
    }
  }
  return null;
}

/** Runs a tool, returns stdout; on failure the error says what ran and what it printed. */
export function run(tool, args, opts = {}) {
  const r = spawnSync(tool, args, { encoding: opts.encoding ?? "utf8", maxBuffer: 1 << 28, ...opts });
  if (r.error) throw new BuildError(`${tool} could not run: ${r.error.message}`);
  if (r.status !== 0 && !opts.allowFail) {
    const err = String(r.stderr ?? "").trim().split("\n").slice(-15).join("\n");
    throw new BuildError(`${tool} ${args.join(" ")} failed (exit ${r.status}):\n${err}`);
  }
  return r;
}

export function timed(label, fn) {
  const t0 = performance.now();
  const v = fn();
  log(`  ${label}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return v;
}

/** Every path under root, sorted bytewise, root itself first as ".". */
export function listTree(root) {
  const out = ["."];
  const walk = (rel) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel === "." ? name : `${rel}/${name}`;
      out.push(r);
      if (lstatSync(join(root, r)).isDirectory()) walk(r);
    }
  };
  walk(".");
  return out.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
}

export function setTimes(root, paths) {
  // touch -h sets symlinks' own times (Node's utimes would follow them).
  const touch = findTool("touch") ?? "touch";
  for (let i = 0; i < paths.length; i += 500) {
    run(touch, ["-h", "-d", `@${SOURCE_DATE_EPOCH}`, ...paths.slice(i, i + 500)], { cwd: root });
  }
}

/**
 * An ext4 image of the tree at `root`, the same bytes for the same tree: fixed UUID, hash seed
 * and times, every owner root. (Also used by build-debian-guest.mjs.)
 */
export function ext4Image(tools, root, img, sizeMiB, label = "snap86-root") {
  const paths = listTree(root);
  setTimes(root, paths);
  rmSync(img, { force: true });
  const env = { ...process.env, E2FSPROGS_FAKE_TIME: String(SOURCE_DATE_EPOCH), SOURCE_DATE_EPOCH: String(SOURCE_DATE_EPOCH) };
  // -b 4096: mke2fs would pick 1 KiB blocks for a disk this small. -m 0: root is the only
  // user. lazy_*_init=0: otherwise the guest kernel zeroes inode tables in the background
  // after every boot, dirtying disk blocks and burning emulated CPU.
  run(tools.mke2fs, [
    "-q", "-F", "-t", "ext4", "-b", "4096", "-m", "0", "-L", label,
    "-U", DISK_UUID, "-E", `hash_seed=${DISK_HASH_SEED},lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0`,
    "-d", root, img, `${sizeMiB}M`,
  ], { env });
  // mke2fs copies owners and inode change times from the host files; a build by a non-root
  // user or at another time would differ. Pin both for every inode.
  const cmds = paths.map((p) => {
    const q = p === "." ? "/" : `/${p}`;
    return ["uid 0", "gid 0", `ctime @${SOURCE_DATE_EPOCH}`, `atime @${SOURCE_DATE_EPOCH}`, `mtime @${SOURCE_DATE_EPOCH}`, `crtime @${SOURCE_DATE_EPOCH}`]
      .map((f) => `sif "${q}" ${f}`).join("\n");
  });
  run(tools.debugfs, ["-w", "-f", "-", img], { input: `${cmds.join("\n")}\n`, env });
  const fsck = findTool("e2fsck");
  if (fsck) run(fsck, ["-n", "-f", img], { env });
  return readFileSync(img);
}

export function writeAtomic(path, data) {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Runs `main` when `moduleUrl` is the script node was started with; a BuildError exits 2 with its message. */
export function runAsScript(moduleUrl, name, main) {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    process.stderr.write(`${name}: ${e.message}\n`);
    process.exitCode = 2;
  }
}
