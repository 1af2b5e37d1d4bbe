// What every bench prints: the conditions it ran in (at the start, on stderr, and inside the
// result) and exactly one JSON line last on stdout. Before/after figures are compared line by
// line, so a line must say on which CPU, under which load and at which commit it was taken.
import { spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { ROOT } from "../../scripts/lib/setup.mjs";

const loadNow = () => loadavg().map((x) => Math.round(x * 100) / 100);

function git(args) {
  const r = spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The commit measured; "-dirty" when tracked files differ from it (the figures are not its). */
function gitCommit() {
  const commit = git(["rev-parse", "--short=12", "HEAD"]);
  if (!commit) return "unknown";
  return git(["status", "--porcelain", "--untracked-files=no"]) ? `${commit}-dirty` : commit;
}

/** Overrides such as SNAP86_BENCH_RUNS change what a figure means, so they travel with it. */
function benchEnv() {
  const set = Object.entries(process.env).filter(([k]) => k.startsWith("SNAP86_BENCH_"));
  return set.length ? Object.fromEntries(set) : undefined;
}

/** Taken before the bench builds or starts anything, so the load is the machine's, not ours. */
export function startConditions() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? "unknown",
    cores: cpu.length,
    load_avg_start: loadNow(),
    node: process.version,
    date: new Date().toISOString(),
    commit: gitCommit(),
    env: benchEnv(),
  };
}

export function printConditions(c) {
  console.error(`conditions: ${c.cpu}, ${c.cores} cores, load ${c.load_avg_start.join(" ")}, node ${c.node}, ${c.date}, commit ${c.commit}`);
}

/**
 * The bench's one result line: `{"bench":name, ...fields, "conditions":{...}}`, last on stdout.
 * `inline: false` for a bench whose line is fixed field for field (bench:guest): the conditions
 * then go to stderr as their own JSON line, just before it.
 */
export function printResult(name, fields, conditions, { inline = true } = {}) {
  const end = { ...conditions, load_avg_end: loadNow() };
  if (!inline) console.error(`conditions: ${JSON.stringify(end)}`);
  console.log(JSON.stringify({ bench: name, ...fields, ...(inline ? { conditions: end } : {}) }));
}
