/**
 * What a share uploads, on the sharer's side: every chunk the checkpoint names, exactly as stored
 * (verified first, so a damaged chunk is never spread), and every disk layer it names flattened
 * (the built-in guest's disk, or each writable drive of a user's machine), each distinct block
 * once, zstd-compressed for the trip. A user's images are added by image-share.ts.
 */
import { diskSections } from "../checkpoint/disk-sections";
import { encodeChunk, sha256Hex } from "../checkpoint/codec";
import { manifestChunkHashes, type CheckpointManifest } from "../checkpoint/manifest";
import { verifyChunk } from "../checkpoint/store";
import { Snap86Error, throwIfAborted } from "../protocol/errors";
import type { GuestIdentity, ShareBridgeDeps } from "./checkpoint-share";
import { encodeFrame } from "./object-frame";
import type { ShareObject } from "./share-session";
import { CODEC_IDS, imageIdOf, type SharedDisk } from "./shared-checkpoint";

const WRITE_BATCH = 64;

/** The checkpoint's disk layers, each with the image it lies on: the built-in guest's disk, or each writable drive's image. */
function layersOf(m: CheckpointManifest, guest: GuestIdentity | null): Array<{ layerId: string; imageId: string }> {
  if (guest) return m.diskLayerId ? [{ layerId: m.diskLayerId, imageId: imageIdOf(guest.base) }] : [];
  return (m.driveLayers ?? []).map((l) => ({ layerId: l.diskLayerId, imageId: m.machine.drives?.find((d) => d.kind === l.kind)?.imageId ?? "" }));
}

/** A disk or image block as an object: zstd-compressed for the trip, as captures do. */
export function blockObject(hash: string, bytes: Uint8Array): ShareObject {
  const enc = encodeChunk(bytes);
  return { key: hash, plaintext: encodeFrame({ codecId: CODEC_IDS[enc.codec], rawLength: bytes.byteLength, encoded: enc.bytes }) };
}

export async function collectObjects(deps: ShareBridgeDeps, m: CheckpointManifest, guest: GuestIdentity | null, signal?: AbortSignal): Promise<{ objects: ShareObject[]; disks: SharedDisk[]; known: Set<string> }> {
  const objects: ShareObject[] = [];
  const hashes = [...manifestChunkHashes(m)];
  for (let i = 0; i < hashes.length; i += WRITE_BATCH) {
    throwIfAborted(signal);
    const batch = hashes.slice(i, i + WRITE_BATCH);
    const records = await deps.checkpoints.getChunkRecords(batch);
    for (let j = 0; j < batch.length; j++) {
      const rec = records[j];
      await verifyChunk(rec, batch[j], m.id);
      if (!rec) throw new Error("unreachable");
      objects.push({ key: batch[j], plaintext: encodeFrame({ codecId: CODEC_IDS[rec.codec], rawLength: rec.rawLength, encoded: new Uint8Array(rec.bytes) }) });
    }
  }
  const known = new Set(hashes);
  const disks: SharedDisk[] = [];
  for (const { layerId, imageId } of layersOf(m, guest)) {
    const disk: SharedDisk = { layerId, imageId, blockSize: 0, blocks: [] };
    for await (const section of diskSections(deps.layers, layerId)) {
      if (section.kind === "disk-layer") {
        const meta = JSON.parse(new TextDecoder().decode(section.meta)) as { imageId: string; blockSize: number };
        if (meta.imageId !== disk.imageId) throw new Snap86Error("guest-mismatch", "This checkpoint's disk belongs to another base image than this app serves: it cannot be shared");
        disk.blockSize = meta.blockSize;
        continue;
      }
      throwIfAborted(signal);
      const hash = await sha256Hex(section.bytes);
      disk.blocks.push([section.blockIndex, hash]);
      if (known.has(hash)) continue; // same content twice (zeroed blocks, or a block equal to a chunk): one object
      known.add(hash);
      objects.push(blockObject(hash, section.bytes));
    }
    disks.push(disk);
  }
  return { objects, disks, known };
}
