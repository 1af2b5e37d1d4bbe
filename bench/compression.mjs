// Chooses the checkpoint chunk size, hash and codec by measurement (see docs/checkpoint-format.md).
//
// Input: .cache/ram-after-boot.bin (a 128 MiB RAM dump of the booted guest, written by
// scripts/dump-ram.ts) and, if present, .cache/ram-after-command.bin (the same guest after one
// shell command) for the dedup figure. Without them a synthetic image built from this machine's
// own binaries and text files is used, and the "tiny change" is simulated by rewriting pages.
//
// Usage: npm run bench:compression [-- --quick]
// Prints Markdown tables, then (like every bench) one JSON line last with the same figures and
// the conditions they were taken in (bench/lib/report.mjs).
import { readFileSync, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createBLAKE3, createXXHash128, createSHA256 } from "hash-wasm";
import * as fflate from "fflate";
import lz4 from "lz4js";
import { init as zstdInit, compress as zstdCompress, decompress as zstdDecompress } from "@bokuweb/zstd-wasm";
import { printConditions, printResult, startConditions } from "./lib/report.mjs";

const MiB = 1024 * 1024;
const KiB = 1024;
const RAM_SIZE = 128 * MiB;
const quick = process.argv.includes("--quick");
const conditions = startConditions();
printConditions(conditions);
/** The tables' figures, for the JSON line. */
const figures = { chunk_sizes: [], hashes: [], codecs: [] };

// ---------- input ----------

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

function listFiles(dir, out, limit) {
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    if (out.length >= limit) return;
    const p = join(dir, e.name);
    if (e.isDirectory()) listFiles(p, out, limit);
    else if (e.isFile()) out.push(p);
  }
}

// Pages filled from real binaries (code compresses like kernel text), text files (like page
// cache) and a share of random bytes (like compressed/encrypted data), placed in runs of
// pages as an allocator would, leaving the rest zero (init_on_free=1 guest).
function syntheticRam(seed, nonZeroTarget) {
  const ram = new Uint8Array(RAM_SIZE);
  const rand = rng(seed);
  const sources = [];
  listFiles("/usr/bin", sources, 400);
  listFiles("/usr/share/doc", sources, 1200);
  listFiles("/usr/lib/x86_64-linux-gnu", sources, 1600);
  const blobs = [];
  let total = 0;
  for (const f of sources) {
    try {
      const st = statSync(f);
      if (st.size < 4096 || st.size > 8 * MiB) continue;
      blobs.push(readFileSync(f));
      total += st.size;
      if (total > 64 * MiB) break;
    } catch { /* unreadable: skip */ }
  }
  const pages = RAM_SIZE / 4096;
  let filled = 0;
  while (filled < nonZeroTarget) {
    const run = 1 + Math.floor(rand() * 64);
    const start = Math.floor(rand() * (pages - run));
    for (let p = start; p < start + run; p++) {
      const off = p * 4096;
      if (ram[off] !== 0 || ram[off + 4095] !== 0) continue;
      if (rand() < 0.1) {
        for (let i = 0; i < 4096; i++) ram[off + i] = (rand() * 256) | 1;
      } else {
        const b = blobs[Math.floor(rand() * blobs.length)];
        const from = Math.floor(rand() * (b.length - 4096));
        ram.set(b.subarray(from, from + 4096), off);
        ram[off] |= 1; // make sure the page counts as non-zero
      }
      filled += 4096;
    }
  }
  return ram;
}

function touchPages(ram, seed, count) {
  const copy = ram.slice();
  const rand = rng(seed);
  const pages = RAM_SIZE / 4096;
  for (let i = 0; i < count; i++) {
    const p = Math.floor(rand() * pages);
    const off = p * 4096 + Math.floor(rand() * 4000);
    for (let j = 0; j < 64; j++) copy[off + j] = (rand() * 256) | 0;
  }
  return copy;
}

let source;
let ram;
let ram2;
if (existsSync(".cache/ram-after-boot.bin")) {
  ram = new Uint8Array(readFileSync(".cache/ram-after-boot.bin"));
  source = "real guest RAM (.cache/ram-after-boot.bin)";
  if (existsSync(".cache/ram-after-command.bin")) {
    ram2 = new Uint8Array(readFileSync(".cache/ram-after-command.bin"));
    source += " + .cache/ram-after-command.bin";
  }
} else {
  ram = syntheticRam(1, 38 * MiB);
  source = "synthetic (binaries/text/random pages, 38 MiB non-zero)";
}
const simulatedChange = !ram2;
if (!ram2) ram2 = touchPages(ram, 7, 300);

// ---------- helpers ----------

function isZero(u8) {
  const w = new BigUint64Array(u8.buffer, u8.byteOffset, u8.byteLength >> 3);
  for (let i = 0; i < w.length; i++) if (w[i] !== 0n) return false;
  return true;
}
function isZero32(u8) {
  const w = new Uint32Array(u8.buffer, u8.byteOffset, u8.byteLength >> 2);
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
  return true;
}

function chunksOf(buf, size) {
  const out = [];
  for (let off = 0; off < buf.length; off += size) {
    const c = buf.subarray(off, off + size);
    if (!isZero32(c)) out.push(c);
  }
  return out;
}

async function streamCodec(format, data, compress) {
  const s = compress ? new CompressionStream(format) : new DecompressionStream(format);
  const res = new Response(new Blob([data]).stream().pipeThrough(s));
  return new Uint8Array(await res.arrayBuffer());
}

const fmt = (n, d = 1) => n.toFixed(d);
const ms = (t) => `${fmt(t, 0)} ms`;

async function time(fn) {
  const t0 = performance.now();
  const r = await fn();
  return [performance.now() - t0, r];
}

// ---------- benchmark ----------

await zstdInit();
const blake3 = await createBLAKE3();
const xxh128 = await createXXHash128();
const sha256w = await createSHA256();

const hashers = {
  "sha256 (crypto.subtle, batched)": async (chunks) => {
    const out = [];
    for (let i = 0; i < chunks.length; i += 64) {
      const batch = chunks.slice(i, i + 64).map((c) => crypto.subtle.digest("SHA-256", c));
      out.push(...(await Promise.all(batch)));
    }
    return out.length;
  },
  "sha256 (hash-wasm)": async (chunks) => { for (const c of chunks) { sha256w.init(); sha256w.update(c); sha256w.digest("binary"); } return chunks.length; },
  "blake3 (hash-wasm)": async (chunks) => { for (const c of chunks) { blake3.init(); blake3.update(c); blake3.digest("binary"); } return chunks.length; },
  "xxhash128 (hash-wasm)": async (chunks) => { for (const c of chunks) { xxh128.init(); xxh128.update(c); xxh128.digest("binary"); } return chunks.length; },
};

const codecs = {
  "zstd-1 (@bokuweb/zstd-wasm)": { c: (d) => zstdCompress(d, 1), d: (d) => zstdDecompress(d) },
  "zstd-3 (@bokuweb/zstd-wasm)": { c: (d) => zstdCompress(d, 3), d: (d) => zstdDecompress(d) },
  "lz4 (lz4js)": { c: (d) => lz4.compress(d), d: (d) => lz4.decompress(d) },
  "deflate-1 (fflate)": { c: (d) => fflate.deflateSync(d, { level: 1 }), d: (d) => fflate.inflateSync(d) },
  "deflate-raw (CompressionStream)": { c: (d) => streamCodec("deflate-raw", d, true), d: (d) => streamCodec("deflate-raw", d, false), batched: true },
  "gzip (CompressionStream)": { c: (d) => streamCodec("gzip", d, true), d: (d) => streamCodec("gzip", d, false), batched: true },
};

console.log(`# snap86 checkpoint compression bench\ninput: ${source}\nnode ${process.version}, ${quick ? "quick" : "full"} run\n`);

// Zero scan
{
  const [t64] = await time(() => chunksOf(ram, 64 * KiB));
  const t0 = performance.now();
  let n = 0;
  for (let off = 0; off < ram.length; off += 64 * KiB) if (!isZero(ram.subarray(off, off + 64 * KiB))) n++;
  const tBig = performance.now() - t0;
  console.log(`zero scan of ${RAM_SIZE / MiB} MiB: Uint32 ${ms(t64)}, BigUint64 ${ms(tBig)}\n`);
}

const chunkSizes = [4 * KiB, 16 * KiB, 32 * KiB, 64 * KiB, 256 * KiB];
const sha = async (c) => new Uint8Array(await crypto.subtle.digest("SHA-256", c));
const hex = (u8) => Buffer.from(u8).toString("hex");

async function minOf(n, fn) {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const [t] = await time(fn);
    best = Math.min(best, t);
  }
  return best;
}

console.log("## Chunk size: what a first and a second checkpoint store (SHA-256 + zstd-1, min of 3 runs)");
console.log(`second image: ${simulatedChange ? "simulated (300 scattered 64-byte writes)" : "real guest after one shell command"}\n`);
console.log("| chunk | non-zero chunks | non-zero MB | stored MB | 1st: scan+hash+compress | changed chunks | 2nd: new raw MB | 2nd: new stored MB | new / stored |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const size of chunkSizes) {
  const chunks = chunksOf(ram, size);
  const seen = new Map();
  for (let i = 0; i < chunks.length; i += 64) {
    const hs = await Promise.all(chunks.slice(i, i + 64).map(sha));
    hs.forEach((h, j) => seen.set(hex(h), chunks[i + j]));
  }
  let stored = 0;
  for (const c of seen.values()) stored += zstdCompress(c, 1).length;
  const t = await minOf(quick ? 1 : 3, async () => {
    const cs = chunksOf(ram, size);
    for (let i = 0; i < cs.length; i += 64) await Promise.all(cs.slice(i, i + 64).map(sha));
    for (const c of cs) zstdCompress(c, 1);
  });
  let changed = 0, newRaw = 0, newStored = 0;
  for (const c of chunksOf(ram2, size)) {
    const h = hex(await sha(c));
    if (seen.has(h)) continue;
    seen.set(h, c);
    changed++;
    newRaw += c.length;
    newStored += zstdCompress(c, 1).length;
  }
  figures.chunk_sizes.push({ chunk_kib: size / KiB, nonzero_chunks: chunks.length, stored_bytes: stored, first_ms: Math.round(t), changed_chunks: changed, incremental_raw_bytes: newRaw, incremental_stored_bytes: newStored });
  console.log(`| ${size / KiB} KiB | ${chunks.length} | ${fmt((chunks.length * size) / 1e6)} | ${fmt(stored / 1e6, 2)} | ${ms(t)} | ${changed} | ${fmt(newRaw / 1e6, 2)} | ${fmt(newStored / 1e6, 2)} | ${fmt((100 * newStored) / stored, 1)} % |`);
}

for (const size of quick ? [64 * KiB] : [16 * KiB, 64 * KiB]) {
  const chunks = chunksOf(ram, size);
  const raw = chunks.length * size;
  console.log(`\n## ${size / KiB} KiB chunks: ${chunks.length} non-zero, ${fmt(raw / 1e6)} MB`);
  console.log("\n| hash | time | MB/s |\n|---|---|---|");
  for (const [name, h] of Object.entries(hashers)) {
    const [t] = await time(() => h(chunks));
    figures.hashes.push({ chunk_kib: size / KiB, hash: name, ms: Math.round(t), mbps: Math.round(raw / 1e6 / (t / 1000)) });
    console.log(`| ${name} | ${ms(t)} | ${fmt(raw / 1e6 / (t / 1000), 0)} |`);
  }
  console.log("\n| codec | ratio | stored MB | compress | MB/s | decompress | MB/s |\n|---|---|---|---|---|---|---|");
  for (const [name, codec] of Object.entries(codecs)) {
    if (quick && codec.batched) continue;
    let stored = 0;
    const packed = [];
    const [tc] = await time(async () => {
      if (codec.batched) {
        for (let i = 0; i < chunks.length; i += 32) {
          const out = await Promise.all(chunks.slice(i, i + 32).map((c) => codec.c(c)));
          packed.push(...out);
        }
      } else {
        for (const c of chunks) packed.push(await codec.c(c));
      }
    });
    for (const p of packed) stored += p.length;
    const [td] = await time(async () => {
      if (codec.batched) {
        for (let i = 0; i < packed.length; i += 32) await Promise.all(packed.slice(i, i + 32).map((p) => codec.d(p)));
      } else {
        for (const p of packed) await codec.d(p);
      }
    });
    // Check one chunk round-trips so a broken codec cannot win the table.
    const back = await codec.d(packed[packed.length >> 1]);
    const orig = chunks[chunks.length >> 1];
    if (back.length !== orig.length || !back.every((v, i) => v === orig[i])) throw new Error(`${name}: round trip failed`);
    figures.codecs.push({ chunk_kib: size / KiB, codec: name, ratio: Math.round((raw / stored) * 100) / 100, stored_bytes: stored, compress_ms: Math.round(tc), decompress_ms: Math.round(td) });
    console.log(`| ${name} | ${fmt(raw / stored, 2)}x | ${fmt(stored / 1e6)} | ${ms(tc)} | ${fmt(raw / 1e6 / (tc / 1000), 0)} | ${ms(td)} | ${fmt(raw / 1e6 / (td / 1000), 0)} |`);
  }
}

printResult("compression", { input: source, simulated_change: simulatedChange, quick, ...figures }, conditions);
