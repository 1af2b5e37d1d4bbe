/**
 * A user's base image inside a .snap86 file (container v2, docs/checkpoint-format.md): every block
 * (type 6 records) then one image record (type 5: JSON `{name, size, blockSize, url, hashes}`), or,
 * for an image read from a public URL and larger than INLINE_IMAGE_MAX_BYTES, the record alone:
 * the importer then reads the blocks from the URL as the guest needs them, each checked against
 * its hash. The importer keeps the image in this browser (snap86-images) under the id the
 * checkpoint names, so the machine boots from Kept images in a profile that never saw it.
 */
import { blockCountOf, sha256Hex, type ImageAtHand } from "../disk";
import { openImageDb, type KeptImageMeta } from "../storage/image-db";
import { asSnap86Error } from "../protocol/errors";
import type { CheckpointManifest } from "../protocol/checkpoint-data";
import type { ExtraSection } from "./export-format";
import { CheckpointFormatError } from "./errors";

/** Images up to this size travel as blocks in the file; a larger URL image travels as its URL and hashes. */
export const INLINE_IMAGE_MAX_BYTES = 256 * 1024 * 1024;

type ImageSection = Extract<ExtraSection, { imageId: string }>;

interface ImageRecordMeta {
  name: string;
  size: number;
  blockSize: number;
  url: string | null;
  hashes: string[];
}

/**
 * Every drive image of a user's checkpoint that this browser can read. An image it cannot (bytes
 * handed to the API, a file not completely kept yet) is left out: the file then opens where that
 * image is at hand, as files without images always did.
 */
export async function* imageSections(m: CheckpointManifest, open: (imageId: string) => Promise<ImageAtHand>): AsyncGenerator<ImageSection> {
  for (const drive of m.machine.drives ?? []) {
    let at: ImageAtHand;
    try {
      at = await open(drive.imageId);
    } catch (e) {
      if (asSnap86Error(e).code === "unsupported") continue;
      throw e;
    }
    const { source } = at;
    const inline = at.url === null || source.size <= INLINE_IMAGE_MAX_BYTES;
    const hashes: string[] = [];
    for (let i = 0; i < blockCountOf(source.size, source.blockSize); i++) {
      const bytes = await source.readBlock(i);
      hashes.push(await sha256Hex(bytes));
      if (inline) yield { kind: "image-block", imageId: drive.imageId, blockIndex: i, bytes };
    }
    const meta: ImageRecordMeta = { name: at.name, size: source.size, blockSize: source.blockSize, url: inline ? null : at.url, hashes };
    yield { kind: "image", imageId: drive.imageId, meta: new TextEncoder().encode(JSON.stringify(meta)) };
  }
}

const damaged = (why: string) => new CheckpointFormatError(`the checkpoint file is damaged (${why})`);

function parseMeta(bytes: Uint8Array): ImageRecordMeta {
  let v: Partial<ImageRecordMeta>;
  try {
    v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as Partial<ImageRecordMeta>;
  } catch {
    throw damaged("bad image record");
  }
  const { name, size, blockSize, url, hashes } = v ?? {};
  const ok =
    typeof name === "string" && name.length > 0 && name.length <= 4096 &&
    Number.isSafeInteger(size) && (size as number) > 0 && (size as number) <= 2 ** 40 &&
    Number.isSafeInteger(blockSize) && (blockSize as number) >= 512 && (blockSize as number) <= 16 * 1024 * 1024 && ((blockSize as number) & ((blockSize as number) - 1)) === 0 &&
    (url === null || (typeof url === "string" && /^https?:\/\//.test(url) && url.length <= 4096)) &&
    Array.isArray(hashes) && hashes.length === Math.ceil((size as number) / (blockSize as number)) && hashes.every((h) => typeof h === "string" && /^[0-9a-f]{64}$/.test(h));
  if (!ok) throw damaged("bad image record");
  return { name, size, blockSize, url, hashes } as ImageRecordMeta;
}

/**
 * Collects image sections of an import: blocks are held until their image's record arrives, then
 * each is checked against its hash and length (all of them, unless the image comes by URL) and the
 * image is kept. Only the images the checkpoint's drives name are taken.
 */
export function imageSectionImporter(m: CheckpointManifest): (s: ExtraSection) => Promise<void> {
  const wanted = new Set((m.machine.drives ?? []).map((d) => d.imageId));
  const pending = new Map<string, Map<number, Uint8Array>>();
  return async (s) => {
    if (!("imageId" in s) || !wanted.has(s.imageId)) throw new CheckpointFormatError("the checkpoint file's image does not belong to its checkpoint");
    const blocks = pending.get(s.imageId) ?? new Map<number, Uint8Array>();
    pending.set(s.imageId, blocks);
    if (s.kind === "image-block") {
      if (!Number.isSafeInteger(s.blockIndex) || blocks.has(s.blockIndex)) throw damaged(`bad image block index ${s.blockIndex}`);
      blocks.set(s.blockIndex, s.bytes);
      return;
    }
    const meta = parseMeta(s.meta);
    pending.delete(s.imageId);
    if (meta.url === null && blocks.size !== meta.hashes.length) throw damaged(`image ${meta.name} lacks blocks`);
    for (const [index, bytes] of blocks) {
      const length = Math.min(meta.blockSize, meta.size - index * meta.blockSize);
      if (index >= meta.hashes.length || bytes.byteLength !== length || (await sha256Hex(bytes)) !== meta.hashes[index]) throw damaged(`block ${index} of image ${meta.name} does not match its hash`);
    }
    const db = await openImageDb();
    const before = await db.get("images", s.imageId);
    if (before?.complete) return; // kept here already
    const kept: KeptImageMeta = { id: s.imageId, name: meta.name, size: meta.size, blockSize: meta.blockSize, complete: false, created: Date.now() };
    if (meta.url !== null) {
      await db.put("images", { ...kept, url: meta.url, hashes: meta.hashes });
      return;
    }
    await db.put("images", kept);
    for (const [index, bytes] of blocks) await db.put("blocks", bytes.slice().buffer, [s.imageId, index]);
    await db.put("images", { ...kept, complete: true });
  };
}
