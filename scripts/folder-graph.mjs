#!/usr/bin/env node
// Prints which first-level folders of src/ import which (type-only imports included: a contract
// cycle is a cycle too) and exits 1 if the graph has a cycle. `node scripts/folder-graph.mjs`.
// `new Worker(new URL("../workers/x.ts", import.meta.url))` is listed apart as "spawns": the
// worker's code is another program (its own chunk), not part of the spawner's module graph.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "src");
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"'?]*)/g;
const SPAWN = /new URL\(\s*["'](\.{1,2}\/[^"'?]*)/g;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? files(p) : /\.ts$/.test(name) ? [p] : [];
  });
}

/** First-level folder of a path under src/ ("." for files directly in src/). */
function folderOf(file) {
  const rel = path.relative(root, file);
  if (rel.includes(path.sep)) return rel.split(path.sep)[0];
  // "../protocol" names a folder (its index.ts), not a file directly in src/.
  return existsSync(file) && statSync(file).isDirectory() ? rel : ".";
}

export function folderGraph(pattern = IMPORT) {
  const edges = new Map();
  for (const file of files(root)) {
    const from = folderOf(file);
    if (!edges.has(from)) edges.set(from, new Set());
    for (const [, spec] of readFileSync(file, "utf8").matchAll(pattern)) {
      const target = path.resolve(path.dirname(file), spec);
      if (!target.startsWith(root + path.sep)) continue; // node_modules, public/
      const to = folderOf(target);
      if (to !== from) edges.get(from).add(to);
    }
  }
  return edges;
}

/** One cycle as a list of folders, or undefined. */
export function findCycle(edges) {
  const state = new Map();
  const stack = [];
  const visit = (n) => {
    state.set(n, "open");
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      if (state.get(m) === "open") return [...stack.slice(stack.indexOf(m)), m];
      if (!state.has(m)) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, "done");
    return undefined;
  };
  for (const n of [...edges.keys()].sort()) {
    if (!state.has(n)) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const edges = folderGraph();
  for (const [from, to] of [...edges].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`${from.padEnd(14)} -> ${[...to].sort().join(", ") || "(nothing)"}`);
  }
  for (const [from, to] of folderGraph(SPAWN)) if (to.size > 0) console.log(`${from.padEnd(14)} spawns ${[...to].sort().join(", ")}`);
  const cycle = findCycle(edges);
  if (cycle) {
    console.error(`import cycle between folders: ${cycle.join(" -> ")}`);
    process.exit(1);
  }
  console.log("no cycle between the first-level folders of src/");
}
