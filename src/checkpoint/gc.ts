/**
 * Listing, labelling and deleting checkpoints, and garbage collection of chunks no manifest
 * references. GC marks from every manifest AND every pending write (store.beginWrite), and
 * sweeps in the same IndexedDB transaction: transactions over the same stores are serialised,
 * so a writer either registered its hashes before GC's snapshot (they are kept) or after GC
 * finished (then it saw those chunks missing and writes them itself).
 * A Web Lock ("snap86-gc") keeps two tabs from collecting at once.
 */
import { manifestDiskLayers, type CheckpointManifest } from "./manifest";
import type { CheckpointStore } from "./checkpoint-store";
import type { PendingWrite } from "./store";
import type { CheckpointSummary, GcOptions, GcResult, LockManagerLike } from "../protocol/checkpoint-data";

export type { CheckpointSummary, GcOptions, GcResult, LockManagerLike } from "../protocol/checkpoint-data";


export const GC_LOCK = "snap86-gc";
/** A pending write older than this is from a tab that died mid-write; its chunks may go. */
export const DEFAULT_STALE_PENDING_MS = 10 * 60 * 1000;


/** A manifest without its chunk lists (what crosses to the emulator worker for lists). */
export function checkpointSummary(m: CheckpointManifest): CheckpointSummary {
  const { formatVersion: _format, chunkSize: _chunkSize, codec: _codec, hashAlgorithm: _hash, deviceState: _state, ram: _ram, ...summary } = m;
  return summary;
}

export async function listCheckpoints(store: CheckpointStore): Promise<CheckpointSummary[]> {
  return (await store.listManifests()).map(checkpointSummary);
}

/**
 * Deletes a manifest (its chunks go at the next GC). Returns its disk layer id if no other
 * checkpoint uses that layer any more, so the disk module can drop it.
 */
export async function deleteCheckpoint(store: CheckpointStore, id: string): Promise<{ releasedDiskLayerIds: string[] }> {
  const tx = store.db.transaction("manifests", "readwrite");
  const m = await tx.store.get(id);
  if (!m) {
    await tx.done;
    return { releasedDiskLayerIds: [] };
  }
  await tx.store.delete(id);
  const rest = await tx.store.getAll();
  await tx.done;
  const used = new Set(rest.flatMap(manifestDiskLayers));
  return { releasedDiskLayerIds: manifestDiskLayers(m).filter((layer) => !used.has(layer)) };
}


function defaultLocks(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks;
}

/** Disk layers named by a stored manifest, read tolerantly like its hashes: its one disk and every drive's. */
function layersOf(m: unknown, into: Set<string>): void {
  const o = m as { diskLayerId?: unknown; driveLayers?: unknown } | null;
  if (typeof o?.diskLayerId === "string") into.add(o.diskLayerId);
  if (!Array.isArray(o?.driveLayers)) return;
  for (const d of o.driveLayers as { diskLayerId?: unknown }[]) if (typeof d?.diskLayerId === "string") into.add(d.diskLayerId);
}

/** Hashes named by a stored manifest, read tolerantly so even a damaged record pins its chunks. */
function hashesOf(m: unknown, into: Set<string>): void {
  const o = m as { ram?: { chunks?: unknown }; deviceState?: { chunks?: unknown } } | null;
  for (const list of [o?.ram?.chunks, o?.deviceState?.chunks]) {
    if (Array.isArray(list)) for (const h of list) if (typeof h === "string") into.add(h);
  }
}

export async function collectGarbage(store: CheckpointStore, options: GcOptions = {}): Promise<GcResult> {
  const locks = options.locks ?? defaultLocks();
  const run = (): Promise<GcResult> => sweep(store, options);
  return locks ? locks.request(GC_LOCK, { mode: "exclusive" }, run) : run();
}

async function sweep(store: CheckpointStore, options: GcOptions): Promise<GcResult> {
  const now = options.now ?? Date.now();
  const staleBefore = now - (options.staleAfterMs ?? DEFAULT_STALE_PENDING_MS);
  const tx = store.db.transaction(["manifests", "pending", "chunkMeta", "chunks"], "readwrite");
  const [manifests, pending] = await Promise.all([tx.objectStore("manifests").getAll(), tx.objectStore("pending").getAll()]);

  const marked = new Set<string>();
  for (const m of manifests) hashesOf(m, marked);
  let stalePendingRemoved = 0;
  const deletes: Promise<unknown>[] = [];
  for (const p of pending as PendingWrite[]) {
    if (p.started < staleBefore) {
      stalePendingRemoved++;
      deletes.push(tx.objectStore("pending").delete(p.id));
    } else {
      for (const h of p.hashes) marked.add(h);
    }
  }

  // All keys in one request, then only the dead chunks' sizes: a cursor costs a round trip per
  // chunk (~1.4 s for a session's few thousand chunks here, and the sweep holds the chunk stores,
  // so session saves waited on it).
  const chunkMeta = tx.objectStore("chunkMeta");
  const chunks = tx.objectStore("chunks");
  const keys = await chunkMeta.getAllKeys();
  const dead = keys.filter((key) => !marked.has(key));
  const deadMeta = await Promise.all(dead.map((key) => chunkMeta.get(key)));
  let freedBytes = 0;
  for (const meta of deadMeta) freedBytes += meta?.size ?? 0;
  for (const key of dead) deletes.push(chunkMeta.delete(key), chunks.delete(key));
  const deletedChunks = dead.length;
  const keptChunks = keys.length - dead.length;
  await Promise.all(deletes);
  await tx.done;

  const referenced = new Set<string>();
  for (const m of manifests) layersOf(m, referenced);
  const unreferenced = [...new Set(options.knownDiskLayerIds ?? [])].filter((id) => !referenced.has(id));
  return {
    deletedChunks,
    freedBytes,
    keptChunks,
    stalePendingRemoved,
    referencedDiskLayerIds: [...referenced].sort(),
    unreferencedDiskLayerIds: unreferenced,
  };
}
