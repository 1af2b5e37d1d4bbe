/**
 * The chunk store: IndexedDB storage of content-addressed chunks and of the records that name
 * them (database "snap86-checkpoints"; its schema, version and upgrades are in
 * src/storage/checkpoint-db.ts). What a record holds is not this module's business: the
 * checkpoint format (manifests, src/checkpoint/checkpoint-store.ts) is layered above it.
 * - `chunks`:    content hash → encoded bytes; shared by every record that has those bytes.
 * - `chunkMeta`: content hash → ChunkMeta (sizes, codec). Kept apart from the bytes so sizes
 *                and existence can be read without loading megabytes of values.
 * - `manifests`: id → record. A record is written last, in a transaction that first checks every
 *                chunk it names is present, so a checkpoint is either complete or absent: a
 *                crash mid-write leaves only orphan chunks for GC.
 * - `pending`:   write id → hashes an in-progress write will reference. Registered in the same
 *                transaction that decides which chunks already exist, so GC (which marks from
 *                records AND pending) can never sweep a chunk a writer has decided to reuse.
 */
import type { CheckpointDb, PendingWrite } from "../storage/checkpoint-db";
import { decodeChunk, sha256Hex, type ChunkCodec } from "./codec";
import { CheckpointCorruptError } from "./errors";

export interface ChunkMeta {
  /** Encoded size in bytes. */
  size: number;
  rawLength: number;
  codec: ChunkCodec;
  /** When the chunk was first stored (ms since epoch). */
  created: number;
}

export interface ChunkRecord extends ChunkMeta {
  /** Encoded bytes, exactly (an ArrayBuffer of its own, not a view into something larger). */
  bytes: ArrayBuffer;
}

export type { PendingWrite };

export interface NewChunk {
  hash: string;
  bytes: Uint8Array;
  rawLength: number;
  codec: ChunkCodec;
}

function ownBuffer(u8: Uint8Array): ArrayBuffer {
  if (u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength && u8.buffer instanceof ArrayBuffer) return u8.buffer;
  return u8.slice().buffer as ArrayBuffer;
}

/**
 * How often an open write (or pin) renews its pending entry. GC treats entries older than 10
 * minutes (DEFAULT_STALE_PENDING_MS in gc.ts) as left by a dead tab, so a live one renews well
 * within that: an open or a lazy restore may take longer than 10 minutes.
 */
export const PENDING_HEARTBEAT_MS = 60_000;

/** Past this many sizes the cache starts over (a 2 GiB guest's RAM is 65,536 chunks). */
const SIZE_CACHE_LIMIT = 1 << 18;

/**
 * Chunks a write will name because a listed record names them (a capture's base: the checkpoint
 * RAM last matched). A listed record's chunks are all stored (commitRecord), so one key lookup
 * stands for all of them.
 */
export interface WriteBase {
  recordId: string;
  hashes: Iterable<string>;
}

/** Chunks, and records of type `R` (kept as they are given: the layer above validates them). */
export class ChunkStore<R = unknown> {
  /** Pending entries this store opened and has not ended: renewed by the heartbeat. */
  readonly #open = new Set<string>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  /**
   * Encoded sizes of chunks seen by this store object. A chunk's bytes never change, so neither
   * does its size; whether it is still stored is never read from here.
   */
  readonly #sizes = new Map<string, number>();
  /** Per open write: the hashes beginWrite found stored through their record, not one by one. */
  readonly #covered = new Map<string, ReadonlySet<string>>();
  /** Per open write: the pending rows extendWrite added (each holds only the hashes it added). */
  readonly #extensions = new Map<string, string[]>();

  constructor(readonly db: CheckpointDb<R, ChunkMeta>) {}

  close(): void {
    this.#stopHeartbeat();
    this.db.close();
  }

  /**
   * Keeps `hashes` from GC while a reader uses them (a lazy restore reads chunks for as long as
   * the guest runs, and deleting its checkpoint must not take them away). Returns the release.
   */
  async pin(pinId: string, hashes: Iterable<string>): Promise<() => Promise<void>> {
    await this.beginWrite(pinId, hashes);
    return () => this.abortWrite(pinId);
  }

  /** Marks every write and pin of this store as alive now (what the heartbeat does). */
  async renewPending(): Promise<void> {
    if (this.#open.size === 0) return;
    const tx = this.db.transaction("pending", "readwrite");
    const now = Date.now();
    await Promise.all([
      ...[...this.#open].map(async (id) => {
        const entry = await tx.store.get(id);
        if (entry) await tx.store.put({ ...entry, started: now }, id);
      }),
      tx.done,
    ]);
  }

  #track(id: string): void {
    this.#open.add(id);
    if (this.#heartbeat !== undefined) return;
    this.#heartbeat = setInterval(() => void this.renewPending().catch(() => undefined), PENDING_HEARTBEAT_MS);
    // Node (tests, benches): a heartbeat must not keep the process alive on its own.
    (this.#heartbeat as { unref?: () => void }).unref?.();
  }

  /** Ends a write's bookkeeping; returns its pending rows (the first one and any extensions). */
  #endWrite(writeId: string): string[] {
    const rows = [writeId, ...(this.#extensions.get(writeId) ?? [])];
    this.#extensions.delete(writeId);
    this.#covered.delete(writeId);
    for (const row of rows) this.#untrack(row);
    return rows;
  }

  #untrack(id: string): void {
    this.#open.delete(id);
    if (this.#open.size === 0) this.#stopHeartbeat();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /**
   * Registers a write that will reference `hashes` and returns the encoded size of each one
   * already stored. From now until commitRecord/abortWrite, GC keeps all of them.
   */
  async beginWrite(writeId: string, hashes: Iterable<string>, base?: WriteBase): Promise<Map<string, number>> {
    const own = [...new Set(hashes)];
    const baseList = base ? [...new Set(base.hashes)] : [];
    const list = [...new Set([...own, ...baseList])];
    const tx = this.db.transaction(["pending", "chunkMeta", "manifests"], "readwrite");
    const meta = tx.objectStore("chunkMeta");
    const pinned = tx.objectStore("pending").put({ id: writeId, hashes: list, started: Date.now() }, writeId);
    // Listed in the transaction that pins them: the base's chunks are stored, and stay so until
    // the write ends, whatever happens to the record meanwhile. Only sizes not known yet are read.
    const listed = base !== undefined && (await tx.objectStore("manifests").getKey(base.recordId)) !== undefined;
    const covered = new Set(listed ? baseList : []);
    const lookups = list.filter((h) => !(covered.has(h) && this.#sizes.has(h)));
    // An empty store (a first visit's) has none of them: ~1000 single reads took ~100 ms there,
    // before its guest could start.
    const lookUp = async (): Promise<Array<ChunkMeta | undefined>> =>
      lookups.length > 0 && (await meta.count()) === 0 ? lookups.map(() => undefined) : Promise.all(lookups.map((h) => meta.get(h)));
    const [metas] = await Promise.all([lookUp(), pinned, tx.done]);
    this.#track(writeId);
    const present = new Map<string, number>();
    metas.forEach((m, i) => {
      // A record naming a chunk that is not there is damaged: that chunk is checked at commit.
      if (m === undefined) return void covered.delete(lookups[i]);
      present.set(lookups[i], m.size);
      this.#learnSize(lookups[i], m.size);
    });
    for (const h of covered) {
      const size = this.#sizes.get(h);
      if (size !== undefined) present.set(h, size);
    }
    if (covered.size > 0) this.#covered.set(writeId, covered);
    return present;
  }

  #learnSize(hash: string, size: number): void {
    if (this.#sizes.size >= SIZE_CACHE_LIMIT) this.#sizes.clear();
    this.#sizes.set(hash, size);
  }

  /** Which of `hashes` are stored (read from metadata only). */
  async hasChunks(hashes: Iterable<string>): Promise<Set<string>> {
    const list = [...new Set(hashes)];
    const tx = this.db.transaction("chunkMeta", "readonly");
    const keys = await Promise.all(list.map((h) => tx.store.getKey(h)));
    return new Set(list.filter((_, i) => keys[i] !== undefined));
  }

  /**
   * Adds `hashes` to an open write (a capture streamed in parts learns its chunks as it goes) and
   * returns the encoded size of each one already stored, like beginWrite. Each call pins its
   * hashes in a row of its own: rewriting the first row would copy every hash of a 1 GiB base
   * (32,768) once per part.
   */
  async extendWrite(writeId: string, hashes: Iterable<string>): Promise<Map<string, number>> {
    const list = [...new Set(hashes)];
    // Reserved before any await: a capture has two parts in flight, and each needs a row of its own.
    const rows = this.#extensions.get(writeId) ?? [];
    const rowId = `${writeId}+${rows.length + 1}`;
    this.#extensions.set(writeId, [...rows, rowId]);
    const tx = this.db.transaction(["pending", "chunkMeta"], "readwrite");
    const pending = tx.objectStore("pending");
    const meta = tx.objectStore("chunkMeta");
    const [open, metas] = await Promise.all([pending.getKey(writeId), Promise.all(list.map((h) => meta.get(h)))]);
    if (open === undefined) throw new Error(`write ${writeId} is not open`);
    await Promise.all([pending.put({ id: rowId, hashes: list, started: Date.now() }, rowId), tx.done]);
    this.#track(rowId);
    const present = new Map<string, number>();
    metas.forEach((m, i) => {
      if (m === undefined) return;
      present.set(list[i], m.size);
      this.#learnSize(list[i], m.size);
    });
    return present;
  }

  /**
   * Stores chunks. Callers pass only chunks beginWrite reported missing; a chunk stored by
   * someone else meanwhile is simply written again with the same bytes (its key is its content),
   * which is cheaper than checking first. Returns the encoded bytes written.
   */
  async putChunks(records: readonly NewChunk[]): Promise<number> {
    if (records.length === 0) return 0;
    const tx = this.db.transaction(["chunks", "chunkMeta"], "readwrite");
    const bytes = tx.objectStore("chunks");
    const meta = tx.objectStore("chunkMeta");
    const now = Date.now();
    let written = 0;
    const ops: Promise<unknown>[] = [];
    for (const r of records) {
      written += r.bytes.byteLength;
      this.#learnSize(r.hash, r.bytes.byteLength);
      ops.push(
        bytes.put(ownBuffer(r.bytes), r.hash),
        meta.put({ size: r.bytes.byteLength, rawLength: r.rawLength, codec: r.codec, created: now }, r.hash),
      );
    }
    await Promise.all([...ops, tx.done]);
    return written;
  }

  /**
   * Writes `record` under `id`, in one transaction that first checks every chunk in `hashes` is
   * stored (so a listed record is always complete) and ends the pending write.
   */
  protected async commitRecord(id: string, record: R, chunkHashes: Iterable<string>, writeId?: string): Promise<void> {
    // Chunks beginWrite found stored through their listed record are pinned since: no need to look again.
    const covered = writeId === undefined ? undefined : this.#covered.get(writeId);
    const hashes = [...chunkHashes].filter((h) => !covered?.has(h));
    const tx = this.db.transaction(["chunkMeta", "manifests", "pending"], "readwrite");
    const meta = tx.objectStore("chunkMeta");
    const done = tx.done.catch(() => undefined);
    try {
      const keys = await Promise.all(hashes.map((h) => meta.getKey(h)));
      const missing = keys.findIndex((k) => k === undefined);
      if (missing >= 0) throw new CheckpointCorruptError(id, hashes[missing], "was not stored before its manifest");
      await tx.objectStore("manifests").put(record, id);
      if (writeId !== undefined) {
        const pending = tx.objectStore("pending");
        await Promise.all(this.#endWrite(writeId).map((row) => pending.delete(row)));
      }
    } catch (e) {
      try {
        tx.abort();
      } catch {
        // Already aborted by the failing request.
      }
      await done;
      throw e;
    }
    await tx.done;
  }

  async abortWrite(writeId: string): Promise<void> {
    const rows = this.#endWrite(writeId);
    const tx = this.db.transaction("pending", "readwrite");
    await Promise.all([...rows.map((row) => tx.store.delete(row)), tx.done]);
  }

  /** A record as stored: other tabs and older app versions write here too, so validate it. */
  protected getRecord(id: string): Promise<R | undefined> {
    return this.db.get("manifests", id);
  }

  protected listRecords(): Promise<R[]> {
    return this.db.getAll("manifests");
  }

  /** Replaces a record by `edit(stored)` in one transaction; false if there is none. */
  protected async updateRecord(id: string, edit: (stored: R) => R): Promise<boolean> {
    const tx = this.db.transaction("manifests", "readwrite");
    const stored = await tx.store.get(id);
    if (stored !== undefined) await tx.store.put(edit(stored), id);
    await tx.done;
    return stored !== undefined;
  }

  async getChunkRecord(hash: string): Promise<ChunkRecord | undefined> {
    const tx = this.db.transaction(["chunks", "chunkMeta"], "readonly");
    const [bytes, meta] = await Promise.all([tx.objectStore("chunks").get(hash), tx.objectStore("chunkMeta").get(hash), tx.done]);
    return bytes === undefined || meta === undefined ? undefined : { ...meta, bytes };
  }

  /** Several chunk records in one read transaction (undefined where absent). */
  async getChunkRecords(hashes: readonly string[]): Promise<(ChunkRecord | undefined)[]> {
    const tx = this.db.transaction(["chunks", "chunkMeta"], "readonly");
    const bytes = tx.objectStore("chunks");
    const meta = tx.objectStore("chunkMeta");
    const [records] = await Promise.all([
      Promise.all(
        hashes.map(async (h) => {
          const [b, m] = await Promise.all([bytes.get(h), meta.get(h)]);
          return b === undefined || m === undefined ? undefined : { ...m, bytes: b };
        }),
      ),
      tx.done,
    ]);
    return records;
  }

  /**
   * Decoded chunks, each verified against its hash (and its length, where given), read in one
   * transaction; rejects with CheckpointCorruptError naming `checkpointId`.
   */
  async readVerified(hashes: readonly string[], checkpointId: string, lengths?: readonly number[]): Promise<Uint8Array[]> {
    const records = await this.getChunkRecords(hashes);
    return Promise.all(records.map((rec, k) => this.#verifyOrQuarantine(rec, hashes[k], checkpointId, lengths?.[k])));
  }

  /**
   * A stored record that fails verification is garbage under a content address: left in place,
   * every later capture with those bytes would dedupe against it and be damaged too. It is
   * deleted (if still the same bytes), so the next capture that has them stores a good copy;
   * the checkpoints naming it were damaged already and still say so.
   */
  async #verifyOrQuarantine(rec: ChunkRecord | undefined, hash: string, checkpointId: string, expectedLength?: number): Promise<Uint8Array> {
    try {
      return await verifyChunk(rec, hash, checkpointId, expectedLength);
    } catch (e) {
      if (rec && e instanceof CheckpointCorruptError) await this.#quarantine(hash, rec.bytes).catch(() => undefined);
      throw e;
    }
  }

  async #quarantine(hash: string, bad: ArrayBuffer): Promise<void> {
    const tx = this.db.transaction(["chunks", "chunkMeta"], "readwrite");
    const chunks = tx.objectStore("chunks");
    const now = await chunks.get(hash);
    const badBytes = new Uint8Array(bad);
    const same = now !== undefined && now.byteLength === bad.byteLength && new Uint8Array(now).every((b, i) => b === badBytes[i]);
    if (same) await Promise.all([chunks.delete(hash), tx.objectStore("chunkMeta").delete(hash)]);
    await tx.done;
  }

  /** Encoded size of each stored chunk among `hashes` (absent ones are left out). */
  async storedSizes(hashes: Iterable<string>): Promise<Map<string, number>> {
    const list = [...hashes];
    const tx = this.db.transaction("chunkMeta", "readonly");
    const metas = await Promise.all(list.map((h) => tx.store.get(h)));
    await tx.done;
    const out = new Map<string, number>();
    metas.forEach((m, i) => {
      if (m) out.set(list[i], m.size);
    });
    return out;
  }

  /**
   * The decoded bytes of a chunk, verified against its hash. `checkpointId` only names the
   * checkpoint in the error, so the user learns which checkpoint is damaged.
   */
  async getChunk(hash: string, checkpointId: string, expectedLength?: number): Promise<Uint8Array> {
    return this.#verifyOrQuarantine(await this.getChunkRecord(hash), hash, checkpointId, expectedLength);
  }
}

/** Decodes a stored chunk and checks its hash (and, if given, its length). */
export async function verifyChunk(rec: ChunkRecord | undefined, hash: string, checkpointId: string, expectedLength?: number): Promise<Uint8Array> {
  if (!rec) throw new CheckpointCorruptError(checkpointId, hash, "is missing from the store");
  if (expectedLength !== undefined && rec.rawLength !== expectedLength) {
    throw new CheckpointCorruptError(checkpointId, hash, `has length ${rec.rawLength}, ${expectedLength} expected`);
  }
  let data: Uint8Array;
  try {
    data = decodeChunk(new Uint8Array(rec.bytes), rec.codec, rec.rawLength);
  } catch (e) {
    throw new CheckpointCorruptError(checkpointId, hash, `cannot be decompressed (${(e as Error).message})`);
  }
  if ((await sha256Hex(data)) !== hash) throw new CheckpointCorruptError(checkpointId, hash, "does not match its hash");
  return data;
}
