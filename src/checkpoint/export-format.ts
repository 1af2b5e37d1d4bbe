/**
 * The .snap86 single-file export: one checkpoint (manifest + every chunk it names) plus optional
 * opaque disk sections the disk module adds. Layout (little-endian), see docs/checkpoint-format.md:
 *
 *   header   8-byte magic 89 'S' 'N' 'A' 'P' '8' '6' 1A, u32 container version, u32 flags (0)
 *   records  u8 type, 3 zero bytes, u32 payload length, payload   (manifest record first)
 *   trailer  a record of type 0xFF: u32 record count, u32 CRC-32 of every byte before it
 *
 * Import checks the magic, version, every record boundary and the CRC before anything is stored,
 * and every chunk against its SHA-256, so a damaged or foreign file is refused as a whole.
 */
import { decodeChunk, fromHex, sha256Hex, toHex, type ChunkCodec } from "./codec";
import { crc32 } from "./crc32";
import { checkpointMissing, CheckpointFormatError } from "./errors";
import { decodeManifest, encodeManifest, manifestChunkHashes, type CheckpointManifest } from "./manifest";
import type { CheckpointStore } from "./checkpoint-store";
import { verifyChunk, type NewChunk } from "./store";
import { throwIfAborted } from "../protocol/errors";

/** 2: image records (a user's image travels with its checkpoint); files without them are still written as 1. */
export const CONTAINER_VERSION = 2;
const MAGIC = new Uint8Array([0x89, 0x53, 0x4e, 0x41, 0x50, 0x38, 0x36, 0x1a]);
const HEADER_BYTES = 16;
const RECORD_HEADER = 8;
const MAX_RECORD = 64 * 1024 * 1024;

const RecordType = { Manifest: 1, Chunk: 2, DiskBlock: 3, DiskLayer: 4, Image: 5, ImageBlock: 6, Trailer: 0xff } as const;
type RecordType = (typeof RecordType)[keyof typeof RecordType];

/**
 * Opaque disk data carried along with a checkpoint; src/disk decides what it means. Image
 * sections (container v2) carry a user's base image: its blocks, then its record
 * (src/checkpoint/image-sections.ts), in the same layout as a layer's, keyed by the image id.
 */
export type ExtraSection =
  | { kind: "disk-layer"; layerId: string; meta: Uint8Array }
  | { kind: "disk-block"; layerId: string; blockIndex: number; bytes: Uint8Array }
  | { kind: "image"; imageId: string; meta: Uint8Array }
  | { kind: "image-block"; imageId: string; blockIndex: number; bytes: Uint8Array };

function record(type: RecordType, payload: Uint8Array): Uint8Array {
  if (payload.byteLength > MAX_RECORD) throw new RangeError(`record of ${payload.byteLength} bytes is too large`);
  const out = new Uint8Array(RECORD_HEADER + payload.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, type);
  dv.setUint32(4, payload.byteLength, true);
  out.set(payload, RECORD_HEADER);
  return out;
}

function layerIdBytes(id: string): Uint8Array {
  const b = new TextEncoder().encode(id);
  if (b.byteLength === 0 || b.byteLength > 0xffff) throw new RangeError("disk layer id must be 1..65535 bytes");
  return b;
}

function sectionRecord(s: ExtraSection): Uint8Array {
  const image = s.kind === "image" || s.kind === "image-block";
  const id = layerIdBytes(image ? s.imageId : s.layerId);
  if (s.kind === "disk-layer" || s.kind === "image") {
    const p = new Uint8Array(2 + id.byteLength + s.meta.byteLength);
    new DataView(p.buffer).setUint16(0, id.byteLength, true);
    p.set(id, 2);
    p.set(s.meta, 2 + id.byteLength);
    return record(image ? RecordType.Image : RecordType.DiskLayer, p);
  }
  if (!Number.isSafeInteger(s.blockIndex) || s.blockIndex < 0) throw new RangeError(`bad block index ${s.blockIndex}`);
  const p = new Uint8Array(2 + id.byteLength + 8 + s.bytes.byteLength);
  const dv = new DataView(p.buffer);
  dv.setUint16(0, id.byteLength, true);
  p.set(id, 2);
  dv.setUint32(2 + id.byteLength, s.blockIndex % 2 ** 32, true);
  dv.setUint32(6 + id.byteLength, Math.floor(s.blockIndex / 2 ** 32), true);
  p.set(s.bytes, 10 + id.byteLength);
  return record(image ? RecordType.ImageBlock : RecordType.DiskBlock, p);
}

const CODEC_IDS: Record<ChunkCodec, number> = { raw: 0, zstd: 1 };
const CODEC_BY_ID: ChunkCodec[] = ["raw", "zstd"];

/**
 * Streams the file's bytes. Chunks are verified before they are written out, so an export never
 * spreads a damaged chunk. `extra` sections (disk layers/blocks) follow the chunks.
 */
export async function* exportCheckpoint(
  store: CheckpointStore,
  id: string,
  extra?: AsyncIterable<ExtraSection> | Iterable<ExtraSection>,
  signal?: AbortSignal,
  /** The extra sections include image records: the file is container v2 (v1 readers refuse it rather than lose the image). */
  withImages = false,
): AsyncGenerator<Uint8Array> {
  const m = await store.getManifest(id);
  if (!m) throw checkpointMissing(id);
  let crc = 0;
  let count = 0;
  const emit = (b: Uint8Array): Uint8Array => {
    crc = crc32(b, crc);
    return b;
  };
  const header = new Uint8Array(HEADER_BYTES);
  header.set(MAGIC);
  new DataView(header.buffer).setUint32(8, withImages ? CONTAINER_VERSION : 1, true);
  yield emit(header);
  yield emit(record(RecordType.Manifest, encodeManifest(m)));
  count++;
  for (const hash of manifestChunkHashes(m)) {
    throwIfAborted(signal);
    const rec = await store.getChunkRecord(hash);
    await verifyChunk(rec, hash, m.id);
    if (!rec) throw new Error("unreachable");
    const enc = new Uint8Array(rec.bytes);
    const p = new Uint8Array(40 + enc.byteLength);
    p.set(fromHex(hash), 0);
    const dv = new DataView(p.buffer);
    dv.setUint32(32, rec.rawLength, true);
    dv.setUint8(36, CODEC_IDS[rec.codec]);
    p.set(enc, 40);
    yield emit(record(RecordType.Chunk, p));
    count++;
  }
  if (extra) {
    for await (const s of extra) {
      throwIfAborted(signal);
      if ((s.kind === "image" || s.kind === "image-block") && !withImages) throw new RangeError("image sections need withImages");
      yield emit(sectionRecord(s));
      count++;
    }
  }
  const t = new Uint8Array(8);
  new DataView(t.buffer).setUint32(0, count, true);
  // The CRC covers everything before the trailer record, including the trailer's own header.
  const trailerHead = record(RecordType.Trailer, t).subarray(0, RECORD_HEADER);
  crc = crc32(trailerHead, crc);
  crc = crc32(t.subarray(0, 4), crc);
  new DataView(t.buffer).setUint32(4, crc, true);
  yield record(RecordType.Trailer, t);
}

export async function exportCheckpointBlob(
  store: CheckpointStore,
  id: string,
  extra?: AsyncIterable<ExtraSection> | Iterable<ExtraSection>,
  signal?: AbortSignal,
  withImages = false,
): Promise<Blob> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for await (const p of exportCheckpoint(store, id, extra, signal, withImages)) parts.push(p as Uint8Array<ArrayBuffer>);
  return new Blob(parts, { type: "application/x-snap86" });
}

interface ParsedRecord {
  type: number;
  payload: Uint8Array;
}

function refuse(msg: string): never {
  throw new CheckpointFormatError(msg);
}

/** Checks the container as a whole (magic, version, boundaries, CRC) and returns its records. */
export function parseContainer(file: Uint8Array): ParsedRecord[] {
  if (file.byteLength < HEADER_BYTES || !MAGIC.every((b, i) => file[i] === b)) refuse("this is not a snap86 checkpoint file");
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const version = dv.getUint32(8, true);
  if (version > CONTAINER_VERSION) refuse(`this file was made by a newer snap86 (file format v${version}, this snap86 reads v${CONTAINER_VERSION})`);
  if (version < 1 || dv.getUint32(12, true) !== 0) refuse(`unsupported snap86 file format v${version}`);
  const records: ParsedRecord[] = [];
  let off = HEADER_BYTES;
  for (;;) {
    if (off + RECORD_HEADER > file.byteLength) refuse("the checkpoint file is damaged or incomplete (it ends before its trailer)");
    const type = dv.getUint8(off);
    const length = dv.getUint32(off + 4, true);
    if (dv.getUint8(off + 1) | dv.getUint8(off + 2) | dv.getUint8(off + 3) || length > MAX_RECORD || off + RECORD_HEADER + length > file.byteLength) {
      refuse("the checkpoint file is damaged or incomplete (bad record at byte " + off + ")");
    }
    const payload = file.subarray(off + RECORD_HEADER, off + RECORD_HEADER + length);
    if (type === RecordType.Trailer) {
      if (length !== 8 || off + RECORD_HEADER + length !== file.byteLength) refuse("the checkpoint file is damaged (bad trailer)");
      const count = new DataView(payload.buffer, payload.byteOffset, 8).getUint32(0, true);
      const stored = new DataView(payload.buffer, payload.byteOffset, 8).getUint32(4, true);
      if (crc32(file.subarray(0, off + RECORD_HEADER + 4)) !== stored) refuse("the checkpoint file is damaged (checksum mismatch)");
      if (count !== records.length) refuse("the checkpoint file is damaged (record count mismatch)");
      return records;
    }
    if (version === 1 && (type === RecordType.Image || type === RecordType.ImageBlock)) refuse(`the checkpoint file has an unknown record type ${type}`);
    records.push({ type, payload });
    off += RECORD_HEADER + length;
  }
}

export interface ImportResult {
  manifest: CheckpointManifest;
  /** True if a checkpoint with this id was already stored (nothing was changed). */
  alreadyPresent: boolean;
  chunksAdded: number;
}

/**
 * Imports a .snap86 file. Disk sections go to `onSection` BEFORE the manifest is committed, so
 * the disk layer exists by the time the checkpoint is listed. Throws CheckpointFormatError for
 * foreign, damaged or incompatible-version files, with nothing listed.
 */
export async function importCheckpoint(
  store: CheckpointStore,
  file: Blob | ArrayBuffer | Uint8Array,
  onSection?: (s: ExtraSection) => Promise<void> | void,
  /** Checked while verifying and before each write: a cancelled import lists nothing. */
  signal?: AbortSignal,
): Promise<ImportResult> {
  const bytes = file instanceof Uint8Array ? file : new Uint8Array(file instanceof ArrayBuffer ? file : await file.arrayBuffer());
  const records = parseContainer(bytes);
  if (records.length === 0 || records[0].type !== RecordType.Manifest) refuse("the checkpoint file has no manifest");
  const manifest = decodeManifest(records[0].payload);
  if (await store.getManifest(manifest.id)) return { manifest, alreadyPresent: true, chunksAdded: 0 };

  const needed = manifestChunkHashes(manifest);
  const chunks: NewChunk[] = [];
  const sections: ExtraSection[] = [];
  for (const r of records.slice(1)) {
    throwIfAborted(signal);
    const dv = new DataView(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength);
    if (r.type === RecordType.Chunk) {
      if (r.payload.byteLength < 40) refuse("the checkpoint file is damaged (short chunk record)");
      const hash = toHex(r.payload.subarray(0, 32));
      const rawLength = dv.getUint32(32, true);
      const codec = CODEC_BY_ID[dv.getUint8(36)];
      if (!codec || rawLength > manifest.chunkSize) refuse(`the checkpoint file is damaged (chunk ${hash.slice(0, 16)}…)`);
      if (!needed.has(hash)) refuse(`the checkpoint file carries chunk ${hash.slice(0, 16)}… that its manifest does not name`);
      const enc = r.payload.subarray(40);
      let ok = false;
      try {
        ok = (await sha256Hex(decodeChunk(enc, codec, rawLength))) === hash;
      } catch {
        ok = false;
      }
      if (!ok) refuse(`the checkpoint file is damaged (chunk ${hash.slice(0, 16)}… does not match its hash)`);
      chunks.push({ hash, bytes: enc, rawLength, codec });
    } else if (r.type === RecordType.DiskBlock || r.type === RecordType.DiskLayer || r.type === RecordType.Image || r.type === RecordType.ImageBlock) {
      const idLen = r.payload.byteLength >= 2 ? dv.getUint16(0, true) : 0;
      const block = r.type === RecordType.DiskBlock || r.type === RecordType.ImageBlock;
      if (idLen === 0 || (block ? 10 : 2) + idLen > r.payload.byteLength) refuse("the checkpoint file is damaged (bad disk section)");
      const id = new TextDecoder().decode(r.payload.subarray(2, 2 + idLen));
      const blockIndex = block ? dv.getUint32(2 + idLen, true) + dv.getUint32(6 + idLen, true) * 2 ** 32 : 0;
      if (r.type === RecordType.DiskLayer) sections.push({ kind: "disk-layer", layerId: id, meta: r.payload.slice(2 + idLen) });
      else if (r.type === RecordType.Image) sections.push({ kind: "image", imageId: id, meta: r.payload.slice(2 + idLen) });
      else if (r.type === RecordType.DiskBlock) sections.push({ kind: "disk-block", layerId: id, blockIndex, bytes: r.payload.slice(10 + idLen) });
      else sections.push({ kind: "image-block", imageId: id, blockIndex, bytes: r.payload.slice(10 + idLen) });
    } else refuse(`the checkpoint file has an unknown record type ${r.type}`);
  }

  const present = await store.beginWrite(manifest.id, needed);
  try {
    const have = new Set([...present.keys(), ...chunks.map((c) => c.hash)]);
    for (const h of needed) if (!have.has(h)) refuse(`the checkpoint file is incomplete (chunk ${h.slice(0, 16)}… is missing)`);
    let chunksAdded = 0;
    const fresh = chunks.filter((c) => !present.has(c.hash));
    for (let i = 0; i < fresh.length; i += 64) {
      throwIfAborted(signal);
      const batch = fresh.slice(i, i + 64);
      await store.putChunks(batch);
      chunksAdded += batch.length;
    }
    for (const s of sections) await onSection?.(s);
    // A sink that must see every section (a disk layer record may be missing) says so last.
    await (onSection as { finish?: () => Promise<void> | void } | undefined)?.finish?.();
    // A disk layer imported without its manifest is collected with the unreferenced ones.
    throwIfAborted(signal);
    await store.commitManifest(manifest, manifest.id);
    return { manifest, alreadyPresent: false, chunksAdded };
  } catch (e) {
    await store.abortWrite(manifest.id).catch(() => undefined);
    throw e;
  }
}
