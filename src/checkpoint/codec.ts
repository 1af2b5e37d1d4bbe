/**
 * Chunk compression (zstd level 1 via @bokuweb/zstd-wasm, chosen by bench/compression.mjs) and
 * SHA-256 content hashes (crypto.subtle: native, and collision-resistant, which matters because
 * imported files name chunks by hash and must not be able to alias a chunk we already hold).
 */
import { compress, decompress, init } from "@bokuweb/zstd-wasm";
import { forEachLimited } from "../async/for-each-limited";

/** How one stored chunk is encoded. "raw" is used when zstd would not make it smaller. */
export type ChunkCodec = "zstd" | "raw";

export const ZSTD_LEVEL = 1;

let ready: Promise<void> | undefined;

/**
 * Loads the zstd wasm once. In the browser pass the URL of zstd.wasm (a Vite `?url` import, so
 * it is served from our own origin); in Node the package reads its own file.
 */
export function initCodec(wasmUrl?: string): Promise<void> {
  ready ??= (init as (path?: string) => Promise<void>)(wasmUrl).catch((e: unknown) => {
    ready = undefined;
    throw e;
  });
  return ready;
}

export interface Encoded {
  bytes: Uint8Array;
  codec: ChunkCodec;
}

/** Requires initCodec() to have resolved. */
export function encodeChunk(data: Uint8Array): Encoded {
  const z = compress(data, ZSTD_LEVEL);
  if (z.byteLength < data.byteLength) return { bytes: z, codec: "zstd" };
  return { bytes: data.slice(), codec: "raw" };
}

/** zstd at another level than chunks use (a share's pack is compressed harder, once). Requires initCodec(). */
export function compressZstd(data: Uint8Array, level: number): Uint8Array {
  return compress(data, level);
}

/** Throws on undecodable input or a length other than rawLength (the caller names the chunk). */
export function decodeChunk(bytes: Uint8Array, codec: ChunkCodec, rawLength: number): Uint8Array {
  let out: Uint8Array;
  if (codec === "raw") out = bytes;
  else if (codec === "zstd") out = decompress(bytes, { defaultHeapSize: rawLength });
  else throw new Error(`unknown codec ${String(codec)}`);
  if (out.byteLength !== rawLength) throw new Error(`decoded ${out.byteLength} bytes, ${rawLength} expected`);
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>)));
}

/** Hashes many pieces with a bounded number of digests in flight (crypto.subtle is async). */
export async function sha256HexAll(pieces: readonly Uint8Array[], inFlight = 64): Promise<string[]> {
  const out = new Array<string>(pieces.length);
  await forEachLimited(pieces, inFlight, async (piece, i) => {
    out[i] = await sha256Hex(piece);
  });
  return out;
}
