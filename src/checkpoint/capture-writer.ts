/**
 * A checkpoint written in parts: the device state first, then RAM chunks as the emulator worker
 * reads them (all of them, or only the chunks written since a base whose chunk list is known),
 * then the manifest. Chunks not sent keep the base's hash: content addressing makes "not written
 * since" and "same hash" the same thing. Each part is zero-skipped, hashed, registered with the
 * open write (so GC keeps what it will name), and only chunks the store lacks are compressed.
 * See docs/memory-tracking.md.
 */
import { chunkMap, hashChunks, isZero, splitNonZero, type HashedChunk } from "./chunks";
import { encodeChunk, initCodec } from "./codec";
import { decodeManifest, formatVersionFor, type CheckpointManifest } from "./manifest";
import type { CheckpointStore } from "./checkpoint-store";
import type { NewChunk } from "./store";
import type { CaptureMeta, CaptureTimings } from "../protocol/checkpoint-data";
import { forEachLimited } from "../async/for-each-limited";

/** Raw bytes per store transaction: big enough to amortise a transaction, small enough to overlap. */
const BATCH_BYTES = 4 * 1024 * 1024;
/** Store writes at once: one transaction committing and the next batch queued behind it. */
const STORE_QUEUE = 2;

export interface CaptureWriterInput extends CaptureMeta {
  deviceState: ArrayBuffer | Uint8Array;
  ramLength: number;
  chunkSize: number;
  /** RAM chunk hashes at the instant the emulator started tracking writes; null: every chunk is sent. */
  base: readonly (string | null)[] | null;
  /**
   * The checkpoint whose RAM chunks `base` is, when all of them were stored: if it is still listed
   * when the write begins, its chunks are known stored without a lookup each (a 1 GiB guest has
   * 32,768), so beginning and committing cost what changed, not what RAM holds.
   */
  baseId?: string | null;
}

export class CaptureWriter {
  readonly #ram: (string | null)[];
  readonly #sent: Uint8Array;
  readonly #sizes = new Map<string, number>();
  readonly #written = new Set<string>();
  #newBytes = 0;
  readonly timings: CaptureTimings = { hashMs: 0, compressMs: 0, storeWaitMs: 0, totalMs: 0 };
  readonly #t0 = performance.now();

  private constructor(
    private readonly store: CheckpointStore,
    private readonly input: CaptureWriterInput,
    private readonly stateChunks: HashedChunk[],
  ) {
    const count = Math.ceil(input.ramLength / input.chunkSize);
    this.#ram = input.base ? [...input.base] : new Array<string | null>(count).fill(null);
    this.#sent = new Uint8Array(input.base ? count : 0);
  }

  static async begin(store: CheckpointStore, input: CaptureWriterInput): Promise<CaptureWriter> {
    const count = Math.ceil(input.ramLength / input.chunkSize);
    if (input.base && input.base.length !== count) throw new RangeError(`base has ${input.base.length} chunks, RAM has ${count}`);
    if (input.ramLength !== input.machine.memoryBytes) throw new RangeError(`RAM is ${input.ramLength} bytes, machine has ${input.machine.memoryBytes}`);
    await initCodec();
    if (await store.getManifest(input.id)) throw new Error(`checkpoint ${input.id} already exists`);
    const state = input.deviceState instanceof Uint8Array ? input.deviceState : new Uint8Array(input.deviceState);
    const stateChunks = await hashChunks(splitNonZero(state, input.chunkSize));
    const writer = new CaptureWriter(store, { ...input, deviceState: state }, stateChunks);
    const baseHashes = (input.base ?? []).filter((h): h is string => h !== null);
    const stateHashes = stateChunks.map((c) => c.hash);
    // The base's chunks are pinned with the rest: a chunk kept by reference must outlive GC too.
    const present = input.baseId
      ? await store.beginWrite(input.id, stateHashes, { recordId: input.baseId, hashes: baseHashes })
      : await store.beginWrite(input.id, [...baseHashes, ...stateHashes]);
    for (const [hash, size] of present) writer.#sizes.set(hash, size);
    await writer.#storeMissing(stateChunks);
    return writer;
  }

  /**
   * RAM chunks `indices` (ascending or not), their bytes one after another in `data` (each
   * chunkSize long, the last chunk of RAM possibly shorter), as they were at the capture instant;
   * `zeros`: chunks found all-zero, sent without their bytes.
   */
  async addRam(indices: readonly number[], data: Uint8Array, zeros: readonly number[] = []): Promise<void> {
    const { chunkSize, ramLength } = this.input;
    const count = this.#ram.length;
    for (const index of zeros) {
      if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`chunk ${index} is outside RAM`);
      this.#ram[index] = null;
      if (this.#sent.length > 0) this.#sent[index] = 1;
    }
    const chunks: { index: number; data: Uint8Array }[] = [];
    let offset = 0;
    for (const index of indices) {
      if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`chunk ${index} is outside RAM`);
      const length = Math.min(chunkSize, ramLength - index * chunkSize);
      const piece = data.subarray(offset, offset + length);
      offset += length;
      if (this.#sent.length > 0) this.#sent[index] = 1;
      if (isZero(piece)) this.#ram[index] = null;
      else chunks.push({ index, data: piece });
    }
    if (offset !== data.byteLength) throw new RangeError(`${data.byteLength} bytes given for chunks totalling ${offset}`);
    const th = performance.now();
    const hashed = await hashChunks(chunks);
    this.timings.hashMs += performance.now() - th;
    for (const c of hashed) this.#ram[c.index] = c.hash;
    const present = await this.store.extendWrite(this.input.id, hashed.map((c) => c.hash));
    for (const [hash, size] of present) this.#sizes.set(hash, size);
    await this.#storeMissing(hashed);
  }

  /** Chunks sent so far (a streamed capture's progress). */
  get sentCount(): number {
    return this.#sent.reduce((n, s) => n + s, 0);
  }

  async #storeMissing(chunks: readonly HashedChunk[]): Promise<void> {
    const missing = new Map<string, HashedChunk>();
    for (const c of chunks) if (!this.#sizes.has(c.hash) && !missing.has(c.hash)) missing.set(c.hash, c);
    if (missing.size === 0) return;
    const timings = this.timings;
    const sizes = this.#sizes;
    let compressMs = 0;
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
        if (batchRaw >= BATCH_BYTES) {
          yield batch;
          batch = [];
          batchRaw = 0;
        }
      }
      if (batch.length > 0) yield batch;
    }
    const tw = performance.now();
    // Batches are compressed as the store takes them: IDB commits are the slow part in Chromium.
    await forEachLimited(batches(), STORE_QUEUE, (batch) => this.store.putChunks(batch));
    timings.compressMs += compressMs;
    timings.storeWaitMs += performance.now() - tw - compressMs;
    for (const h of missing.keys()) {
      this.#written.add(h);
      this.#newBytes += sizes.get(h) ?? 0;
    }
  }

  /** Writes the manifest (listed only if every chunk it names is stored) and ends the write. */
  async commit(): Promise<CheckpointManifest> {
    const { input } = this;
    const state = input.deviceState as Uint8Array;
    const ramHashes = new Set(this.#ram.filter((h): h is string => h !== null));
    let storedBytes = 0;
    for (const h of new Set([...ramHashes, ...this.stateChunks.map((c) => c.hash)])) storedBytes += this.#sizes.get(h) ?? 0;
    let nonZeroBytes = 0;
    this.#ram.forEach((h, i) => {
      if (h !== null) nonZeroBytes += Math.min(input.chunkSize, input.ramLength - i * input.chunkSize);
    });
    const manifest = decodeManifest({
      formatVersion: formatVersionFor(input),
      id: input.id,
      parent: input.parent,
      label: input.label,
      created: input.created ?? Date.now(),
      machine: input.machine,
      chunkSize: input.chunkSize,
      codec: "zstd",
      hashAlgorithm: "sha256",
      deviceState: { length: state.byteLength, chunks: chunkMap(state.byteLength, input.chunkSize, this.stateChunks) },
      ram: { length: input.ramLength, chunks: this.#ram },
      diskLayerId: input.diskLayerId,
      ...(input.driveLayers ? { driveLayers: input.driveLayers } : {}),
      thumbnail: input.thumbnail,
      sizes: { ramBytes: input.ramLength, nonZeroBytes, storedBytes, newBytes: this.#newBytes },
    } satisfies CheckpointManifest);
    await this.store.commitManifest(manifest, input.id);
    this.timings.totalMs = performance.now() - this.#t0;
    return manifest;
  }

  /** Chunks already written stay as orphans for GC; the pending record must not pin them. */
  async abort(): Promise<void> {
    await this.store.abortWrite(this.input.id).catch(() => undefined);
  }
}
