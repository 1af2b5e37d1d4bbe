/**
 * The capture pipeline (runs in the checkpoint-I/O worker, src/checkpoint-io/capture.ts, off the emulator worker; unit tests call it
 * directly): zero-skip and hash chunks, register the write, compress and store only chunks the
 * store lacks, and write the manifest last.
 */
import { forEachLimited } from "../async/for-each-limited";
import { chunkMap, DEFAULT_CHUNK_SIZE, hashChunks, splitNonZero, type HashedChunk } from "./chunks";
import { encodeChunk, initCodec } from "./codec";
import { FORMAT_VERSION, decodeManifest, type CheckpointManifest, type MachineIdentity } from "./manifest";
import type { CheckpointStore } from "./checkpoint-store";
import type { NewChunk } from "./store";
import type { CaptureMeta, CaptureProgress, CaptureTimings } from "../protocol/checkpoint-data";

export type { CaptureMeta, CapturePhase, CaptureProgress, CaptureTimings } from "../protocol/checkpoint-data";


export interface CaptureInput extends CaptureMeta {
  /** Guest RAM copied at the same instant as deviceState (engine.copyRam). */
  ram: Uint8Array;
  deviceState: ArrayBuffer | Uint8Array;
}


/** Raw bytes per store transaction: big enough to amortise a transaction, small enough to overlap. */
const BATCH_BYTES = 4 * 1024 * 1024;
/** Store writes at once: one transaction committing and the next batch queued behind it. */
const STORE_QUEUE = 2;

export async function captureCheckpoint(
  store: CheckpointStore,
  input: CaptureInput,
  onProgress?: (p: CaptureProgress) => void,
  timings?: Partial<CaptureTimings>,
): Promise<CheckpointManifest> {
  const t0 = performance.now();
  const chunkSize = input.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (input.ram.byteLength !== input.machine.memoryBytes) {
    throw new RangeError(`RAM copy is ${input.ram.byteLength} bytes, machine has ${input.machine.memoryBytes}`);
  }
  const state = input.deviceState instanceof Uint8Array ? input.deviceState : new Uint8Array(input.deviceState);
  await initCodec();
  if (await store.getManifest(input.id)) throw new Error(`checkpoint ${input.id} already exists`);

  const ramChunks = await hashChunks(splitNonZero(input.ram, chunkSize));
  const stateChunks = await hashChunks(splitNonZero(state, chunkSize));
  const hashed = ramChunks.length + stateChunks.length;
  onProgress?.({ phase: "hash", done: hashed, total: hashed });
  const t1 = performance.now();

  const all = [...ramChunks, ...stateChunks];
  const present = await store.beginWrite(input.id, all.map((c) => c.hash));
  try {
    // One copy of each distinct missing chunk (zero pages aside, RAM repeats itself a lot).
    const missing = new Map<string, HashedChunk>();
    for (const c of all) if (!present.has(c.hash) && !missing.has(c.hash)) missing.set(c.hash, c);
    const totalRaw = [...missing.values()].reduce((n, c) => n + c.data.byteLength, 0);

    const sizes = new Map(present);
    let doneRaw = 0;
    let compressMs = 0;
    // Batches are compressed as the store takes them: IDB commits are the slow part in Chromium,
    // so while one transaction commits the next batch is compressed and queued behind it.
    function* batches(): Generator<NewChunk[]> {
      let batch: NewChunk[] = [];
      let batchRaw = 0;
      for (const c of missing.values()) {
        const tc = performance.now();
        const enc = encodeChunk(c.data);
        compressMs += performance.now() - tc;
        sizes.set(c.hash, enc.bytes.byteLength);
        batch.push({ hash: c.hash, bytes: enc.bytes, rawLength: c.data.byteLength, codec: enc.codec });
        batchRaw += c.data.byteLength;
        doneRaw += c.data.byteLength;
        if (batchRaw >= BATCH_BYTES) {
          yield batch;
          onProgress?.({ phase: "compress", done: doneRaw, total: totalRaw });
          batch = [];
          batchRaw = 0;
        }
      }
      if (batch.length > 0) yield batch;
    }
    const tw = performance.now();
    await forEachLimited(batches(), STORE_QUEUE, (batch) => store.putChunks(batch));
    // What the pipeline took beyond compressing: the time the store kept the capture waiting.
    const storeWaitMs = performance.now() - tw - compressMs;
    onProgress?.({ phase: "compress", done: totalRaw, total: totalRaw });

    let newBytes = 0;
    for (const h of missing.keys()) newBytes += sizes.get(h) ?? 0;
    let storedBytes = 0;
    for (const size of sizes.values()) storedBytes += size;

    const manifest = decodeManifest({
      formatVersion: FORMAT_VERSION,
      id: input.id,
      parent: input.parent,
      label: input.label,
      created: input.created ?? Date.now(),
      machine: input.machine,
      chunkSize,
      codec: "zstd",
      hashAlgorithm: "sha256",
      deviceState: { length: state.byteLength, chunks: chunkMap(state.byteLength, chunkSize, stateChunks) },
      ram: { length: input.ram.byteLength, chunks: chunkMap(input.ram.byteLength, chunkSize, ramChunks) },
      diskLayerId: input.diskLayerId,
      thumbnail: input.thumbnail,
      sizes: {
        ramBytes: input.ram.byteLength,
        nonZeroBytes: ramChunks.reduce((n, c) => n + c.data.byteLength, 0),
        storedBytes,
        newBytes,
      },
    } satisfies CheckpointManifest);
    onProgress?.({ phase: "manifest", done: 0, total: 1 });
    await store.commitManifest(manifest, input.id);
    onProgress?.({ phase: "done", done: 1, total: 1 });
    if (timings) {
      timings.hashMs = t1 - t0;
      timings.compressMs = compressMs;
      timings.storeWaitMs = storeWaitMs;
      timings.totalMs = performance.now() - t0;
    }
    return manifest;
  } catch (e) {
    // Chunks already written stay as orphans for GC; the pending record must not pin them.
    await store.abortWrite(input.id).catch(() => undefined);
    throw e;
  }
}
