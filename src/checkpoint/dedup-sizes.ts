/**
 * Own vs shared bytes per checkpoint: chunks are content-addressed, so two checkpoints of one
 * session share most of their RAM. "Own" bytes are the ones deleting the checkpoint would free.
 */
import { manifestChunkHashes, type CheckpointManifest } from "./manifest";

import type { SharingSizes } from "../protocol/checkpoint-data";

export type { SharingSizes };

export function sharingSizes(manifests: readonly CheckpointManifest[], storedSize: ReadonlyMap<string, number>): Map<string, SharingSizes> {
  const refs = new Map<string, number>();
  const hashesOf = new Map<string, Set<string>>();
  for (const m of manifests) {
    const hashes = manifestChunkHashes(m);
    hashesOf.set(m.id, hashes);
    for (const h of hashes) refs.set(h, (refs.get(h) ?? 0) + 1);
  }
  const out = new Map<string, SharingSizes>();
  for (const [id, hashes] of hashesOf) {
    let own = 0;
    let shared = 0;
    for (const h of hashes) {
      const size = storedSize.get(h) ?? 0;
      if (refs.get(h) === 1) own += size;
      else shared += size;
    }
    out.set(id, { ownBytes: own, sharedBytes: shared });
  }
  return out;
}
