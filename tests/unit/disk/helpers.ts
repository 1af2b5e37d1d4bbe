import "fake-indexeddb/auto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { BlockHashList } from "../../../src/protocol/guest-manifest";
import { sha256Hex } from "../../../src/disk/base-image";
import { openDiskDb, type DiskDb } from "../../../src/disk/db";

let dbCounter = 0;
export function freshDb(): Promise<DiskDb> {
  return openDiskDb(`snap86-disk-test-${process.pid}-${++dbCounter}-${Math.random().toString(36).slice(2)}`);
}

/** Deterministic PRNG (mulberry32) so fuzz failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(n: number, rand: () => number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 256) | 0;
  return out;
}

export async function hashList(data: Uint8Array, blockSize: number): Promise<BlockHashList> {
  const sha256: string[] = [];
  for (let off = 0; off < data.byteLength; off += blockSize) sha256.push(await sha256Hex(data.subarray(off, off + blockSize)));
  return { blockSize, sha256 };
}

export interface FetchLog {
  ranges: string[];
}

/** A fetch that serves `data` with Range support, recording every request. */
export function rangeFetch(data: Uint8Array, log: FetchLog = { ranges: [] }, delayMs = 0): typeof fetch {
  return async (_input, init) => {
    const range = new Headers(init?.headers).get("Range") ?? "";
    log.ranges.push(range);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const m = /^bytes=(\d+)-(\d+)$/.exec(range);
    if (!m) return new Response(data.slice(), { status: 200 });
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), data.byteLength - 1);
    return new Response(data.slice(start, end + 1), {
      status: 206,
      headers: { "Content-Range": `bytes ${start}-${end}/${data.byteLength}` },
    });
  };
}

export type ServerMode = "range" | "no-range" | "404";

export interface TestServer {
  url: string;
  requests: number;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 serving `data` at /disk.img. */
export async function startServer(data: Uint8Array, mode: ServerMode = "range", latencyMs = 0): Promise<TestServer> {
  const state = { requests: 0 };
  const server: Server = createServer(async (req, res) => {
    state.requests++;
    if (latencyMs) await new Promise((r) => setTimeout(r, latencyMs));
    if (mode === "404" || req.url !== "/disk.img") {
      res.writeHead(404).end("not found");
      return;
    }
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    if (mode === "no-range" || !m) {
      res.writeHead(200, { "Content-Length": data.byteLength }).end(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return;
    }
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), data.byteLength - 1);
    res
      .writeHead(206, { "Content-Length": end - start + 1, "Content-Range": `bytes ${start}-${end}/${data.byteLength}` })
      .end(Buffer.from(data.buffer, data.byteOffset + start, end - start + 1));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/disk.img`,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
