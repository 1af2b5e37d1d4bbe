/**
 * Reading a checkpoint back: chunks are read in batches (one IDB transaction each, since a
 * transaction per chunk costs more than the read) and the next batch is read while the current
 * one is decompressed and verified, so at most two batches of compressed bytes are held.
 */
import type { ChunkList, CheckpointManifest } from "./manifest";
import type { CheckpointStore } from "./checkpoint-store";
import { verifyChunk, type ChunkRecord } from "./store";
import { checkpointMissing } from "./errors";
import { checkRestorable, type MachineIdentity } from "./manifest";
import { throwIfAborted } from "../protocol/errors";

export interface RestoreOptions {
  /** Chunks per read transaction; the next batch is read while one is decoded. */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Checked between batches: a cancelled restore stops reading. */
  signal?: AbortSignal;
  /**
   * The machine the checkpoint will run in: checked before anything is allocated (a manifest
   * may claim any RAM size; an incompatible one must cost nothing, not a RAM-sized buffer).
   */
  machine?: MachineIdentity;
}

/**
 * Writes every non-zero chunk of `list` into `target` at index * chunkSize. Zero chunks are
 * skipped, so `target` must be zero-filled (or the caller zeroes it).
 */
export async function fillFromChunks(
  store: CheckpointStore,
  checkpointId: string,
  list: ChunkList,
  chunkSize: number,
  target: Uint8Array,
  options: RestoreOptions = {},
): Promise<void> {
  if (target.byteLength < list.length) throw new RangeError(`target holds ${target.byteLength} bytes, ${list.length} needed`);
  const jobs: Array<[number, string]> = [];
  list.chunks.forEach((h, i) => {
    if (h) jobs.push([i, h]);
  });
  const total = jobs.length;
  const batchSize = options.batchSize ?? 32;
  let done = 0;
  // Read batch k+1 (one IDB transaction) while batch k is decoded and verified.
  const read = (from: number): Promise<(ChunkRecord | undefined)[]> => store.getChunkRecords(jobs.slice(from, from + batchSize).map((j) => j[1]));
  let pending = jobs.length > 0 ? read(0) : undefined;
  for (let from = 0; pending; from += batchSize) {
    const records = await pending;
    throwIfAborted(options.signal);
    pending = from + batchSize < jobs.length ? read(from + batchSize) : undefined;
    pending?.catch(() => undefined); // surfaced when awaited next round
    await Promise.all(
      records.map(async (rec, k) => {
        const [index, hash] = jobs[from + k];
        const start = index * chunkSize;
        const data = await verifyChunk(rec, hash, checkpointId, Math.min(chunkSize, list.length - start));
        target.set(data, start);
      }),
    );
    done += records.length;
    options.onProgress?.(done, total);
  }
}

/** The v86 device state (save_state output without RAM) of a checkpoint. */
export async function readDeviceState(store: CheckpointStore, m: CheckpointManifest): Promise<ArrayBuffer> {
  const out = new Uint8Array(m.deviceState.length);
  await fillFromChunks(store, m.id, m.deviceState, m.chunkSize, out);
  return out.buffer;
}

/**
 * Guest RAM of a checkpoint into `ram` (a staging buffer of memoryBytes, or a fresh one). The
 * whole buffer is written, zeros included, so a reused staging buffer needs no clearing.
 */
export async function readRam(store: CheckpointStore, m: CheckpointManifest, ram?: Uint8Array, options?: RestoreOptions): Promise<Uint8Array> {
  const target = ram ?? new Uint8Array(m.ram.length);
  if (target.byteLength !== m.ram.length) throw new RangeError(`RAM buffer is ${target.byteLength} bytes, checkpoint has ${m.ram.length}`);
  if (ram) {
    m.ram.chunks.forEach((h, i) => {
      if (!h) target.fill(0, i * m.chunkSize, Math.min((i + 1) * m.chunkSize, m.ram.length));
    });
  }
  await fillFromChunks(store, m.id, m.ram, m.chunkSize, target, options);
  return target;
}

/**
 * RAM chunks `indices` of `m`, verified, back to back: chunk k of `indices` at k * chunkSize
 * (zero chunks stay zero). Needs whole chunks: RAM a multiple of the chunk size.
 */
export async function readRamChunks(store: CheckpointStore, m: CheckpointManifest, indices: readonly number[], options?: RestoreOptions): Promise<Uint8Array> {
  if (m.ram.length % m.chunkSize !== 0) throw new RangeError(`RAM of ${m.ram.length} bytes is not whole ${m.chunkSize}-byte chunks`);
  const chunks = indices.map((i) => {
    if (!Number.isInteger(i) || i < 0 || i >= m.ram.chunks.length) throw new RangeError(`no RAM chunk ${i} in checkpoint ${m.id}`);
    return m.ram.chunks[i];
  });
  const out = new Uint8Array(indices.length * m.chunkSize);
  await fillFromChunks(store, m.id, { chunks, length: out.byteLength }, m.chunkSize, out, options);
  return out;
}

/**
 * Everything restoreDeviceState (src/v86/state.ts) needs, read and verified BEFORE the machine is
 * touched, so a damaged checkpoint fails without leaving a half-restored guest.
 */
export async function loadCheckpoint(
  store: CheckpointStore,
  id: string,
  staging?: Uint8Array,
  options?: RestoreOptions,
): Promise<{ manifest: CheckpointManifest; deviceState: ArrayBuffer; ram: Uint8Array }> {
  const manifest = await store.getManifest(id);
  if (!manifest) throw checkpointMissing(id);
  if (options?.machine) checkRestorable(manifest, options.machine);
  const [deviceState, ram] = await Promise.all([readDeviceState(store, manifest), readRam(store, manifest, staging, options)]);
  return { manifest, deviceState, ram };
}
