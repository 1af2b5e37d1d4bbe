/**
 * The pack of a share link: the working set's pages (not whole chunks), in the order the guest
 * wanted them, in parts an opener installs as each one arrives. A guest about to answer its
 * shell touches ~550 pages spread over ~240 chunks: whole chunks would be 3.2 MB, the pages
 * alone are under 1 MB (docs/sharing.md, the pack).
 *
 * Part plaintext (sealed on its own, in the "pack" domain), little-endian:
 *   "S86P"  u8 version (1)  u8 codec (1 = zstd)  u16 page count N
 *   u8 checkpoint id length L, L bytes of UTF-8 id
 *   N × u32 RAM page numbers, in the order the guest wanted them
 *   zstd(N × 4096 bytes of page contents)
 * The id binds a part to one checkpoint; every page is still compared with its chunk once the
 * chunk arrives (verified by content hash) before the checkpoint is listed.
 */
import { shareErrors } from "./errors";
import { compressZstd, decodeChunk } from "../checkpoint/codec";

export const PACK_PAGE_SIZE = 4096;
/** Pages per part: 128 KiB raw, ~45 KB sealed (a few ms at 50 Mbit/s), and zstd gains from the group. */
export const PART_PAGES = 32;
/** A pack holds at most this many pages (16 MiB raw): the working set, never the checkpoint. */
export const MAX_PACK_PAGES = 4096;
/**
 * ...and at most this many compressed bytes: a working set of hard-to-compress pages keeps only
 * its newest ones, so an opener never waits for megabytes it may not need (2.6 MB measured).
 */
export const MAX_PACK_BYTES = 4 * 1024 * 1024;
/**
 * Level 15: 18 % smaller than level 1 on working-set pages (1436 vs 1757 B/page in groups of
 * 32, measured on a booted guest's RAM); ~0.4 ms per page when sharing, decoding as fast as level 1.
 */
const PACK_ZSTD_LEVEL = 15;
const MAGIC = [0x53, 0x38, 0x36, 0x50]; // "S86P"
const VERSION = 1;
const CODEC_ZSTD = 1;

export interface PackPart {
  readonly checkpointId: string;
  readonly pages: readonly number[];
  /** pages.length × 4096 bytes, page k at k × 4096. */
  readonly data: Uint8Array;
}

export function encodePackPart(part: PackPart): Uint8Array<ArrayBuffer> {
  const id = new TextEncoder().encode(part.checkpointId);
  if (id.byteLength === 0 || id.byteLength > 255) throw new RangeError("checkpoint id must be 1-255 bytes");
  if (part.pages.length === 0 || part.pages.length > 0xffff) throw new RangeError("a part holds 1-65535 pages");
  if (part.data.byteLength !== part.pages.length * PACK_PAGE_SIZE) throw new RangeError("part data is not one page per page number");
  const z = compressZstd(part.data, PACK_ZSTD_LEVEL);
  const header = 9 + id.byteLength + 4 * part.pages.length;
  const out = new Uint8Array(header + z.byteLength);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint8(4, VERSION);
  dv.setUint8(5, CODEC_ZSTD);
  dv.setUint16(6, part.pages.length, true);
  dv.setUint8(8, id.byteLength);
  out.set(id, 9);
  part.pages.forEach((page, k) => dv.setUint32(9 + id.byteLength + 4 * k, page, true));
  out.set(z, header);
  return out;
}

/**
 * Decodes one part and checks it belongs to `checkpointId` and names only pages below
 * `pageCount`, each once; throws ShareError("damaged") otherwise.
 */
export function decodePackPart(plain: Uint8Array, checkpointId: string, pageCount: number): PackPart {
  const bad = (why: string): never => {
    throw shareErrors.damaged(`pack part ${why}`);
  };
  if (plain.byteLength < 9 || MAGIC.some((b, i) => plain[i] !== b)) bad("has no pack header");
  const dv = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  if (dv.getUint8(4) !== VERSION || dv.getUint8(5) !== CODEC_ZSTD) bad("has an unknown version or codec");
  const count = dv.getUint16(6, true);
  const idLength = dv.getUint8(8);
  const header = 9 + idLength + 4 * count;
  if (count === 0 || plain.byteLength <= header) bad("is truncated");
  // Writers put PART_PAGES pages in a part; more would let a key holder make us decode up to
  // 65535 pages (256 MiB) per part.
  if (count > PART_PAGES) bad(`holds ${count} pages, more than ${PART_PAGES}`);
  if (new TextDecoder().decode(plain.subarray(9, 9 + idLength)) !== checkpointId) bad("belongs to another checkpoint");
  const pages: number[] = [];
  const seen = new Set<number>();
  for (let k = 0; k < count; k++) {
    const page = dv.getUint32(9 + idLength + 4 * k, true);
    if (page >= pageCount || seen.has(page)) bad(`names page ${page} twice or outside RAM`);
    seen.add(page);
    pages.push(page);
  }
  let data: Uint8Array;
  try {
    data = decodeChunk(plain.subarray(header), "zstd", count * PACK_PAGE_SIZE);
  } catch {
    return bad("does not decode");
  }
  return { checkpointId, pages, data };
}

/**
 * The pack's part plaintexts for `pages` (need order; duplicates, zero pages and pages
 * `pageBytes` cannot give are left out), at most MAX_PACK_PAGES pages and MAX_PACK_BYTES.
 */
export async function buildPackParts(
  checkpointId: string,
  pages: readonly number[],
  pageBytes: (page: number) => Promise<Uint8Array | null>,
): Promise<Uint8Array<ArrayBuffer>[]> {
  const chosen: Array<{ page: number; bytes: Uint8Array }> = [];
  const seen = new Set<number>();
  for (const page of pages) {
    if (chosen.length >= MAX_PACK_PAGES) break;
    if (seen.has(page)) continue;
    seen.add(page);
    const bytes = await pageBytes(page);
    if (bytes && bytes.some((b) => b !== 0)) chosen.push({ page, bytes });
  }
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let bytes = 0;
  for (let i = 0; i < chosen.length; i += PART_PAGES) {
    const group = chosen.slice(i, i + PART_PAGES);
    const data = new Uint8Array(group.length * PACK_PAGE_SIZE);
    group.forEach((g, k) => data.set(g.bytes, k * PACK_PAGE_SIZE));
    const part = encodePackPart({ checkpointId, pages: group.map((g) => g.page), data });
    if (bytes + part.byteLength > MAX_PACK_BYTES) break;
    bytes += part.byteLength;
    parts.push(part);
  }
  return parts;
}
