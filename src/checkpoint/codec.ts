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

/**
 * Throws on undecodable input or a length other than rawLength (the caller names the chunk).
 * A zstd frame must declare exactly rawLength as its content size: the decoder allocates what
 * the header claims, so an 8 KiB frame of RLE blocks claiming 256 MiB would cost 256 MiB before
 * any length check could refuse it. rawLength is the caller's bound (chunk or block size).
 */
export function decodeChunk(bytes: Uint8Array, codec: ChunkCodec, rawLength: number): Uint8Array {
  let out: Uint8Array;
  if (codec === "raw") out = bytes;
  else if (codec === "zstd") {
    const declared = zstdContentSize(bytes);
    if (declared !== rawLength) throw new Error(`zstd frame declares ${declared ?? "no"} content size, ${rawLength} expected`);
    out = decompress(bytes, { defaultHeapSize: rawLength });
  }
  else throw new Error(`unknown codec ${String(codec)}`);
  if (out.byteLength !== rawLength) throw new Error(`decoded ${out.byteLength} bytes, ${rawLength} expected`);
  return out;
}

const ZSTD_MAGIC = 0xfd2fb528;
const DICT_ID_BYTES = [0, 1, 2, 4];

/**
 * The Frame_Content_Size of the zstd frame at the start of `bytes` (RFC 8878, 3.1.1.1), or null
 * when it is absent, the frame is skippable or foreign, or the header is truncated. Read here
 * rather than through the wasm module so nothing is copied or allocated for a hostile header.
 */
export function zstdContentSize(bytes: Uint8Array): number | null {
  if (bytes.byteLength < 6) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== ZSTD_MAGIC) return null;
  const descriptor = bytes[4];
  if (descriptor & 0x08) return null; // reserved bit
  const singleSegment = (descriptor & 0x20) !== 0;
  const fcsFlag = descriptor >> 6;
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag;
  if (fcsBytes === 0) return null;
  const at = 5 + (singleSegment ? 0 : 1) + DICT_ID_BYTES[descriptor & 0x03];
  if (at + fcsBytes > bytes.byteLength) return null;
  if (fcsBytes === 1) return bytes[at];
  if (fcsBytes === 2) return dv.getUint16(at, true) + 256;
  if (fcsBytes === 4) return dv.getUint32(at, true);
  const high = dv.getUint32(at + 4, true);
  // Above 2^53 cannot equal any length we expect; report it as unsafe rather than rounding.
  return high >= 2 ** 21 ? Number.MAX_VALUE : high * 2 ** 32 + dv.getUint32(at, true);
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
