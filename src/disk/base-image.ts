/**
 * Read-only base images behind one interface (`BlockSource`):
 * - `HttpBaseImage`: fetched lazily by HTTP Range requests in fixed blocks, every block verified against the
 *   published per-block sha256 list, kept in the IndexedDB host cache (keyed by url+sha256).
 * - `MemoryBaseImage`: a user's own file (ArrayBuffer or Blob) already on this machine.
 */
import type { BlockHashList } from "../protocol/guest-manifest";
import { blockRange, type DiskDb } from "./db";
import { BaseImageError } from "./errors";
import { Snap86Error } from "../protocol/errors";

export const DEFAULT_BLOCK_SIZE = 64 * 1024;

export interface BaseImageStats {
  imageSize: number;
  /** Bytes that came over the network. */
  bytesFetched: number;
  /** Bytes served from the IndexedDB host cache (or from the local file for a MemoryBaseImage). */
  bytesFromCache: number;
  requests: number;
  blocksCached: number;
}

export interface BlockSource {
  /** Identity of the image content: layers built on one image never read through to another. */
  readonly imageId: string;
  readonly size: number;
  readonly blockSize: number;
  /** Block `index`; the last block may be shorter than blockSize. The caller must not modify the result. */
  readBlock(index: number): Promise<Uint8Array>;
  stats(): BaseImageStats;
}

export function blockCountOf(size: number, blockSize: number): number {
  return Math.ceil(size / blockSize);
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

export interface HttpBaseImageOptions {
  url: string;
  size: number;
  /** sha256 of the whole image: part of the cache identity. */
  sha256: string;
  /**
   * For an image whose digest nobody published (a user's URL): its identity instead, from what
   * the server says of it (size and validators), used as both image id and cache key.
   */
  identity?: string;
  blockSize?: number;
  /** Per-block digests (see parseBlockHashList). Without them blocks are trusted as served. */
  blockHashes?: BlockHashList | null;
  /** Host cache; null keeps nothing on disk (secure sessions). */
  db?: DiskDb | null;
  fetchFn?: typeof fetch;
  /**
   * Contiguous missing blocks fetched by one Range request (read-ahead). Boot reads are mostly sequential,
   * and per-request latency dominates small blocks; see the report / block-size measurement test.
   */
  maxBlocksPerRequest?: number;
}

export class HttpBaseImage implements BlockSource {
  /** Content identity (`sha256:<hex>`): layers made on this image open wherever the image is served from. */
  readonly imageId: string;
  /** Host-cache key: url + sha256, so a new image (or another server's copy) never reads stale blocks. */
  readonly cacheId: string;
  readonly size: number;
  readonly blockSize: number;
  readonly url: string;
  private readonly hashes: readonly string[] | null;
  private readonly db: DiskDb | null;
  private readonly fetchFn: typeof fetch;
  private readonly maxRun: number;
  private readonly blockCount: number;
  /** Blocks known to be in the host cache, so a miss costs no IndexedDB round trip. */
  private readonly cached = new Set<number>();
  /** One promise per block being fetched or read, so concurrent reads of a block cost one request. */
  private readonly inFlight = new Map<number, Promise<Uint8Array>>();
  /** Read-ahead blocks nobody has asked for yet, kept in memory so their first read skips IndexedDB. */
  private readonly readAhead = new Map<number, Uint8Array>();
  private counters = { bytesFetched: 0, bytesFromCache: 0, requests: 0 };

  private constructor(o: HttpBaseImageOptions) {
    this.url = o.url;
    this.size = o.size;
    this.blockSize = o.blockSize ?? o.blockHashes?.blockSize ?? DEFAULT_BLOCK_SIZE;
    this.imageId = o.identity ?? `sha256:${o.sha256}`;
    this.cacheId = o.identity ?? `${o.url}#${o.sha256}`;
    this.blockCount = blockCountOf(o.size, this.blockSize);
    if (o.blockHashes) {
      if (o.blockHashes.blockSize !== this.blockSize) {
        throw new Snap86Error("guest-invalid", `block hash list is for ${o.blockHashes.blockSize}-byte blocks, disk uses ${this.blockSize}`);
      }
      if (o.blockHashes.sha256.length !== this.blockCount) throw new Snap86Error("guest-invalid", `block hash list must have ${this.blockCount} entries`);
    }
    this.hashes = o.blockHashes?.sha256 ?? null;
    this.db = o.db ?? null;
    this.fetchFn = o.fetchFn ?? ((input, init) => fetch(input, init));
    this.maxRun = Math.max(1, o.maxBlocksPerRequest ?? 4);
  }

  static async open(o: HttpBaseImageOptions): Promise<HttpBaseImage> {
    const img = new HttpBaseImage(o);
    if (img.db) {
      const keys = await img.db.getAllKeys("baseCache", blockRange(img.cacheId));
      for (const [, index] of keys) img.cached.add(index);
    }
    return img;
  }

  stats(): BaseImageStats {
    return { imageSize: this.size, ...this.counters, blocksCached: this.cached.size };
  }

  readBlock(index: number): Promise<Uint8Array> {
    if (!Number.isInteger(index) || index < 0 || index >= this.blockCount) {
      return Promise.reject(new RangeError(`block ${index} is outside the image (${this.blockCount} blocks)`));
    }
    const pending = this.inFlight.get(index);
    if (pending) return pending;
    const ahead = this.readAhead.get(index);
    if (ahead) {
      this.readAhead.delete(index);
      return Promise.resolve(ahead);
    }
    const p = this.cached.has(index) ? this.readCachedOrFetch(index) : this.fetchRunFrom(index);
    return p;
  }

  private track(index: number, p: Promise<Uint8Array>): Promise<Uint8Array> {
    this.inFlight.set(index, p);
    const clear = () => {
      if (this.inFlight.get(index) === p) this.inFlight.delete(index);
    };
    p.then(clear, clear);
    return p;
  }

  private readCachedOrFetch(index: number): Promise<Uint8Array> {
    const db = this.db;
    if (!db) return this.fetchRunFrom(index);
    return this.track(
      index,
      (async () => {
        const buf = await db.get("baseCache", [this.cacheId, index]);
        if (buf && buf.byteLength === this.lengthOf(index)) {
          this.counters.bytesFromCache += buf.byteLength;
          return new Uint8Array(buf);
        }
        // Evicted or damaged: forget it and fetch again (outside of this in-flight entry).
        this.cached.delete(index);
        this.inFlight.delete(index);
        return this.fetchRunFrom(index);
      })(),
    );
  }

  private lengthOf(index: number): number {
    return Math.min(this.blockSize, this.size - index * this.blockSize);
  }

  /** Fetches `index` and the following missing blocks (up to maxRun) in one Range request. */
  private fetchRunFrom(index: number): Promise<Uint8Array> {
    let n = 1;
    while (n < this.maxRun) {
      const next = index + n;
      if (next >= this.blockCount || this.cached.has(next) || this.inFlight.has(next)) break;
      n++;
    }
    const start = index * this.blockSize;
    const end = Math.min(this.size, (index + n) * this.blockSize); // exclusive
    const bytes = this.fetchRange(start, end);
    let first: Promise<Uint8Array> | undefined;
    for (let i = 0; i < n; i++) {
      const b = index + i;
      const off = i * this.blockSize;
      const p = this.track(
        b,
        bytes.then((all) => this.verifyAndCache(b, all.subarray(off, off + this.lengthOf(b)))),
      );
      if (i === 0) first = p;
      else {
        p.then(
          (block) => this.keepReadAhead(b, block),
          () => {}, // nobody asked for it yet: no unhandled rejection
        );
      }
    }
    return first!;
  }

  private keepReadAhead(index: number, block: Uint8Array): void {
    this.readAhead.set(index, block);
    // Bounded: a few runs' worth. Anything dropped is still in the host cache.
    const limit = this.maxRun * 8;
    for (const key of this.readAhead.keys()) {
      if (this.readAhead.size <= limit) break;
      this.readAhead.delete(key);
    }
  }

  private async fetchRange(start: number, end: number): Promise<Uint8Array> {
    const url = this.url;
    const range = `bytes=${start}-${end - 1}`;
    let res: Response;
    try {
      res = await this.fetchFn(url, { headers: { Range: range } });
    } catch (e) {
      throw new BaseImageError("network", `network error while fetching ${url} (${range}): ${errText(e)}`, url);
    }
    this.counters.requests++;
    if (res.status === 404) {
      void res.body?.cancel();
      throw new BaseImageError("not-found", `image not found (404): ${url}`, url);
    }
    if (res.status === 200) {
      // The server would send the whole image: never download it by accident.
      void res.body?.cancel();
      throw new BaseImageError("range-unsupported", `server does not support HTTP Range requests: ${url}`, url);
    }
    if (res.status !== 206) {
      void res.body?.cancel();
      throw new BaseImageError("http", `HTTP ${res.status} while fetching ${url} (${range})`, url);
    }
    let body: ArrayBuffer;
    try {
      body = await res.arrayBuffer();
    } catch (e) {
      throw new BaseImageError("network", `network error while reading ${url} (${range}): ${errText(e)}`, url);
    }
    if (body.byteLength !== end - start) {
      throw new BaseImageError("short-read", `${url} answered ${body.byteLength} bytes for ${range} (expected ${end - start})`, url);
    }
    this.counters.bytesFetched += body.byteLength;
    return new Uint8Array(body);
  }

  private async verifyAndCache(index: number, view: Uint8Array): Promise<Uint8Array> {
    const block = view.slice();
    if (this.hashes) {
      const got = await sha256Hex(block);
      if (got !== this.hashes[index]) {
        throw new BaseImageError(
          "hash-mismatch",
          `block ${index} of ${this.url} does not match its published sha256 (got ${got}, expected ${this.hashes[index]})`,
          this.url,
          index,
        );
      }
    }
    if (this.db) {
      try {
        await this.db.put("baseCache", block.buffer, [this.cacheId, index]);
        this.cached.add(index);
      } catch {
        // The host cache is an optimisation: a full disk only costs refetches.
      }
    }
    return block;
  }
}

function errText(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
  }
  return String(e);
}

/** A base image already on this machine (a file the user picked, or bytes sent to the worker). */
export class MemoryBaseImage implements BlockSource {
  readonly imageId: string;
  readonly size: number;
  readonly blockSize: number;
  private readonly source: Blob | Uint8Array;
  private bytesRead = 0;

  constructor(source: Blob | ArrayBuffer | Uint8Array, o: { imageId: string; blockSize?: number }) {
    this.source = source instanceof ArrayBuffer ? new Uint8Array(source) : source;
    this.size = source instanceof Blob ? source.size : source.byteLength;
    this.blockSize = o.blockSize ?? DEFAULT_BLOCK_SIZE;
    this.imageId = o.imageId;
  }

  async readBlock(index: number): Promise<Uint8Array> {
    const start = index * this.blockSize;
    if (!Number.isInteger(index) || index < 0 || start >= this.size) throw new RangeError(`block ${index} is outside the image`);
    const end = Math.min(this.size, start + this.blockSize);
    this.bytesRead += end - start;
    if (this.source instanceof Uint8Array) return this.source.subarray(start, end);
    return new Uint8Array(await this.source.slice(start, end).arrayBuffer());
  }

  stats(): BaseImageStats {
    return {
      imageSize: this.size,
      bytesFetched: 0,
      bytesFromCache: this.bytesRead,
      requests: 0,
      blocksCached: blockCountOf(this.size, this.blockSize),
    };
  }
}
