// Builds the app as it was at one commit (its own source and vite config) into
// .cache/legacy-<commit>/dist, reusing this checkout's node_modules and generated public files
// (the guest image and the instrumented wasm are build outputs, not in git, and must be the
// very same files so a checkpoint of the old build restores in the new one). The upgrade test
// serves that build to write a profile with the code users ran before the change.
// Usage: node scripts/build-legacy.mjs <commit>  (prints the dist directory; skipped when built)
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT } from "./lib/setup.mjs";

export function legacyDir(commit) {
  return join(ROOT, ".cache", `legacy-${commit}`);
}

export function buildLegacy(commit) {
  const dir = legacyDir(commit);
  const dist = join(dir, "dist");
  if (existsSync(join(dist, "index.html"))) return dist;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // git archive, not a worktree: nothing to register in (or clean out of) the repository.
  const tar = execFileSync("git", ["archive", "--format=tar", commit], { cwd: ROOT, maxBuffer: 1 << 30 });
  execFileSync("tar", ["-x", "-C", dir], { input: tar });
  symlinkSync(realpathSync(join(ROOT, "node_modules")), join(dir, "node_modules"));
  for (const generated of ["guest", "generated"]) symlinkSync(realpathSync(join(ROOT, "public", generated)), join(dir, "public", generated));
  const r = spawnSync("npx", ["vite", "build", "--logLevel", "warn", "--outDir", dist], { cwd: dir, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`building ${commit} failed (exit ${r.status})`);
  return dist;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const commit = process.argv[2];
  if (!commit) throw new Error("usage: node scripts/build-legacy.mjs <commit>");
  console.log(buildLegacy(commit));
}
