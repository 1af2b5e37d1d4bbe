/**
 * Disk layers in IndexedDB (QEMU words: overlays in a backing chain over a base image).
 *
 * Every layer stores only the blocks written while it was the live overlay; reads fall through
 * layer -> parent -> ... -> base image (see chain.ts). The operations other modules build on:
 *
 *   createLayer({parent: null, imageId, blockSize})  a new overlay directly on the base image
 *   freeze(id)                                       make a layer immutable (a checkpoint / golden layer)
 *   createChild(parentId)                            a new writable overlay on a frozen layer
 *   deleteLayer(id)                                  metadata goes at once, blocks in background chunks
 *   flatten(id)                                      copy a chain's blocks into one standalone layer (parent null)
 *   commitIntoParent(id)                             fold a frozen layer and its parent into one (QEMU: block commit)
 *   listLayers() / getLayer(id) / ancestry(id)
 *
 * Checkpoint:   flush() the live overlay, freeze(live.id), continue on createChild(live.id).
 * Fast reboot:  drop the session overlay (wipe.ts), continue on createChild(goldenId).
 */
import { blockRange, openDiskDb, storageOf, type DiskDb, type LayerMeta } from "./db";
import { LayerError } from "./errors";
import { holdPendingLock, unlessPending } from "./storage";

export type { LayerMeta } from "./db";

const DELETE_CHUNK = 256;
const COPY_CHUNK = 32;
/** A failed block delete is tried this many times in all before the caller hears of it. */
const DELETE_ATTEMPTS = 4;
const DELETE_RETRY_MS = 200;

export function newLayerId(): string {
  return typeof crypto.randomUUID === "function" ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export interface NewLayer {
  parent: string | null;
  imageId: string;
  blockSize: number;
  label?: string;
}

export class LayerStore {
  constructor(readonly db: DiskDb) {}

  static async open(dbName?: string): Promise<LayerStore> {
    return new LayerStore(await openDiskDb(dbName));
  }

  async createLayer(o: NewLayer): Promise<LayerMeta> {
    const meta: LayerMeta = {
      id: newLayerId(),
      parent: o.parent,
      frozen: false,
      created: Date.now(),
      blockCount: 0,
      bytes: 0,
      imageId: o.imageId,
      blockSize: o.blockSize,
      ...(o.label === undefined ? {} : { label: o.label }),
    };
    const tx = this.db.transaction("layers", "readwrite");
    if (o.parent !== null) {
      const parent = await tx.store.get(o.parent);
      if (!parent) throw new LayerError(`parent layer ${o.parent} does not exist`);
      // A child of a mutable layer would see its parent change underneath it.
      if (!parent.frozen) throw new LayerError(`parent layer ${o.parent} is not frozen: freeze it first`);
      if (parent.imageId !== o.imageId || parent.blockSize !== o.blockSize) {
        throw new LayerError(`parent layer ${o.parent} is built on another image or block size`);
      }
    }
    await tx.store.add(meta);
    await tx.done;
    return meta;
  }

  async createChild(parentId: string, label?: string): Promise<LayerMeta> {
    const parent = await this.mustGet(parentId);
    return this.createLayer({ parent: parentId, imageId: parent.imageId, blockSize: parent.blockSize, ...(label === undefined ? {} : { label }) });
  }

  getLayer(id: string): Promise<LayerMeta | undefined> {
    return this.db.get("layers", id);
  }

  async mustGet(id: string): Promise<LayerMeta> {
    const meta = await this.getLayer(id);
    if (!meta) throw new LayerError(`disk layer ${id} does not exist`);
    return meta;
  }

  listLayers(): Promise<LayerMeta[]> {
    return this.db.getAll("layers");
  }

  async relabel(id: string, label: string): Promise<void> {
    await this.updateMeta(id, (meta) => (meta.label = label));
  }

  freeze(id: string): Promise<LayerMeta> {
    return this.updateMeta(id, (meta) => (meta.frozen = true));
  }

  /** Read-modify-write of one layer's metadata in a single transaction. */
  private async updateMeta(id: string, change: (meta: LayerMeta) => void): Promise<LayerMeta> {
    const tx = this.db.transaction("layers", "readwrite");
    const meta = await tx.store.get(id);
    if (!meta) throw new LayerError(`disk layer ${id} does not exist`);
    change(meta);
    await tx.store.put(meta);
    await tx.done;
    return meta;
  }

  /** [layer, parent, grandparent, ...] up to the layer sitting on the base image. */
  async ancestry(id: string): Promise<LayerMeta[]> {
    const out: LayerMeta[] = [];
    const seen = new Set<string>();
    let next: string | null = id;
    while (next !== null) {
      if (seen.has(next)) throw new LayerError(`disk layer chain of ${id} has a cycle`);
      seen.add(next);
      const meta = await this.mustGet(next);
      out.push(meta);
      next = meta.parent;
    }
    return out;
  }

  /** Block indices stored under `storage` (a layer's storageOf(meta); its id unless it was committed into). */
  async blockIndices(storage: string): Promise<number[]> {
    const keys = await this.db.getAllKeys("blocks", blockRange(storage));
    return keys.map(([, index]) => index);
  }

  /** One block stored under `storage` (see blockIndices). */
  async readBlock(storage: string, index: number): Promise<Uint8Array | undefined> {
    const buf = await this.db.get("blocks", [storage, index]);
    return buf ? new Uint8Array(buf) : undefined;
  }

  /**
   * Stores whole blocks of a writable layer in one transaction, with its metadata.
   * `blockCount` is the layer's block count after the write (the overlay knows which blocks are new).
   * IndexedDB clones each value when put() is called, so callers may keep mutating their buffers afterwards.
   */
  async writeBlocks(id: string, blocks: ReadonlyArray<readonly [number, Uint8Array]>, blockCount: number): Promise<void> {
    const tx = this.db.transaction(["layers", "blocks"], "readwrite");
    const layers = tx.objectStore("layers");
    const store = tx.objectStore("blocks");
    const done = tx.done;
    done.catch(() => {}); // reported through the awaited calls below
    try {
      const meta = await layers.get(id);
      if (!meta) throw new LayerError(`disk layer ${id} was deleted`);
      if (meta.frozen) throw new LayerError(`disk layer ${id} is frozen`);
      const puts: Promise<unknown>[] = [];
      for (const [index, data] of blocks) {
        if (data.byteLength !== meta.blockSize) throw new LayerError(`block ${index} has ${data.byteLength} bytes, layer uses ${meta.blockSize}`);
        const copy = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data.buffer : data.slice().buffer;
        puts.push(store.put(copy as ArrayBuffer, [storageOf(meta), index]));
      }
      meta.blockCount = blockCount;
      meta.bytes = blockCount * meta.blockSize;
      puts.push(layers.put(meta));
      await Promise.all(puts);
    } catch (e) {
      await abandon(tx, done);
      throw e;
    }
    await done;
  }

  /**
   * Removes a layer. Its metadata goes in one transaction (the layer is gone for every reader at once);
   * its blocks are deleted afterwards in small transactions so the UI and the VM never wait on a big one.
   * `blocksDeleted` resolves once every block is gone (each step retried) and rejects when they could
   * not be deleted: callers that wipe session data await it and report a failure. If the tab dies
   * first, the blocks are orphans (no metadata) and the next start's sweepOrphans() removes them.
   * Refuses while other layers read through it.
   */
  async deleteLayer(id: string): Promise<{ blocksDeleted: Promise<void> }> {
    const tx = this.db.transaction("layers", "readwrite");
    const all = await tx.store.getAll();
    const children = all.filter((l) => l.parent === id).map((l) => l.id);
    if (children.length > 0) throw new LayerError(`disk layer ${id} still has child layers: ${children.join(", ")}`);
    const meta = all.find((l) => l.id === id);
    await tx.store.delete(id);
    await tx.done;
    const blocksDeleted = this.deleteBlocksOf(meta ? storageOf(meta) : id);
    // Not an unhandled rejection when a caller does not wait; callers that must know await it.
    blocksDeleted.catch(() => {});
    return { blocksDeleted };
  }

  /** Deletes every block stored under `id` (a storage key), a chunk per transaction, retrying a failed step a few times. */
  async deleteBlocksOf(id: string): Promise<void> {
    for (let failures = 0; ; ) {
      try {
        const tx = this.db.transaction("blocks", "readwrite");
        const keys = await tx.store.getAllKeys(blockRange(id), DELETE_CHUNK);
        if (keys.length > 0) await tx.store.delete(IDBKeyRange.bound(keys[0], keys[keys.length - 1]));
        await tx.done;
        if (keys.length === 0) return;
      } catch (e) {
        if (++failures >= DELETE_ATTEMPTS) throw new LayerError(`the blocks of disk layer ${id} could not be deleted: ${(e as Error).message ?? String(e)}`);
        await new Promise((r) => setTimeout(r, DELETE_RETRY_MS * failures));
      }
    }
  }

  /**
   * Adds a frozen standalone layer with a given id and blocks (a checkpoint imported from a file,
   * which names its disk layer). A layer that already exists is left as it is.
   */
  async importLayer(meta: Pick<LayerMeta, "id" | "imageId" | "blockSize">, blocks: AsyncIterable<readonly [number, Uint8Array]> | Iterable<readonly [number, Uint8Array]>): Promise<boolean> {
    if (await this.getLayer(meta.id)) return false;
    // Until its metadata exists the blocks look like orphans: the pending lock keeps sweeps away.
    const pending = await holdPendingLock(meta.id);
    try {
      return await this.importBlocks(meta, blocks);
    } finally {
      pending.release();
    }
  }

  private async importBlocks(meta: Pick<LayerMeta, "id" | "imageId" | "blockSize">, blocks: AsyncIterable<readonly [number, Uint8Array]> | Iterable<readonly [number, Uint8Array]>): Promise<boolean> {
    const batch: Array<readonly [number, Uint8Array]> = [];
    let count = 0;
    let bytes = 0;
    const put = async () => {
      const tx = this.db.transaction("blocks", "readwrite");
      for (const [index, data] of batch) tx.store.put(data.slice().buffer, [meta.id, index]);
      await tx.done;
      batch.length = 0;
    };
    for await (const block of blocks) {
      batch.push(block);
      count += 1;
      bytes += block[1].byteLength;
      if (batch.length >= DELETE_CHUNK) await put();
    }
    if (batch.length > 0) await put();
    // Metadata last: until it exists the blocks are orphans that sweepOrphans() may remove.
    const layer: LayerMeta = { id: meta.id, parent: null, frozen: true, created: Date.now(), blockCount: count, bytes, imageId: meta.imageId, blockSize: meta.blockSize, label: "imported" };
    await this.db.put("layers", layer);
    return true;
  }

  /**
   * Deletes blocks whose layer no longer exists (a background delete cut short by a closed tab or a
   * terminated worker). Layers being imported (pending lock held) are skipped. Returns how many
   * layers' blocks were removed.
   */
  async sweepOrphans(): Promise<number> {
    const live = new Set((await this.listLayers()).map(storageOf));
    const orphans: string[] = [];
    let cursor = await this.db.transaction("blocks").store.openKeyCursor();
    // Jump from one layer's key range to the next instead of walking every block.
    while (cursor) {
      const [layerId] = cursor.key;
      if (!live.has(layerId)) orphans.push(layerId);
      cursor = await cursor.continue([layerId, Infinity]);
    }
    let swept = 0;
    for (const id of orphans) {
      const done = await unlessPending(id, async () => {
        // Read again under the lock: an import may have written its metadata meanwhile.
        if ((await this.listLayers()).some((l) => storageOf(l) === id)) return false;
        await this.deleteBlocksOf(id);
        return true;
      });
      if (done) swept++;
    }
    return swept;
  }

  /**
   * Folds frozen layer `id` into its frozen parent (QEMU: block commit), in one transaction: the
   * parent's storage receives `id`'s blocks (newer), `id` takes that storage and the parent's
   * parent, and the parent's metadata goes. `id` keeps its id, so every checkpoint and saved device
   * state naming it stays valid; reads through it are unchanged. Only for a parent nothing else
   * needs: no checkpoint names it (the caller knows) and `id` is its only child (checked here).
   *
   * `id`'s old blocks stay under `oldStorage` until the caller deletes them (deleteBlocksOf): a
   * reader that still holds the old chain finds them until it switched (see LayerChain.committed).
   */
  async commitIntoParent(id: string): Promise<{ parentId: string; storage: string; oldStorage: string; blockCount: number }> {
    const tx = this.db.transaction(["layers", "blocks"], "readwrite");
    const layers = tx.objectStore("layers");
    const blocks = tx.objectStore("blocks");
    const done = tx.done;
    done.catch(() => {}); // reported through the awaited calls below
    try {
      const all = await layers.getAll();
      const child = all.find((l) => l.id === id);
      if (!child) throw new LayerError(`disk layer ${id} does not exist`);
      const parent = all.find((l) => l.id === child.parent);
      if (!parent) throw new LayerError(`disk layer ${id} has no parent layer to commit into`);
      if (!child.frozen || !parent.frozen) throw new LayerError(`only frozen layers are committed (${id} into ${parent.id})`);
      const siblings = all.filter((l) => l.parent === parent.id && l.id !== id).map((l) => l.id);
      if (siblings.length > 0) throw new LayerError(`disk layer ${parent.id} has other child layers (${siblings.join(", ")}): it cannot change`);
      const storage = storageOf(parent);
      const oldStorage = storageOf(child);
      const [keys, values] = await Promise.all([blocks.getAllKeys(blockRange(oldStorage)), blocks.getAll(blockRange(oldStorage))]);
      let added = 0;
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < keys.length; i++) {
        const index = keys[i][1];
        if ((await blocks.getKey([storage, index])) === undefined) added++;
        writes.push(blocks.put(values[i], [storage, index]));
      }
      const blockCount = parent.blockCount + added;
      const { label } = child;
      writes.push(layers.put({ ...child, parent: parent.parent, storage, blockCount, bytes: blockCount * child.blockSize, ...(label === undefined ? {} : { label }) }), layers.delete(parent.id));
      await Promise.all(writes);
      await done;
      return { parentId: parent.id, storage, oldStorage, blockCount };
    } catch (e) {
      await abandon(tx, done);
      throw e;
    }
  }

  /**
   * A new standalone layer (parent null, on the same base image) holding, for every block any layer of
   * `id`'s chain stores, the newest version. Reads through it equal reads through `id`. The result is frozen
   * when the source layer is.
   */
  async flatten(id: string, label?: string): Promise<LayerMeta> {
    const chain = await this.ancestry(id);
    const owner = new Map<number, string>();
    for (const layer of chain) {
      for (const index of await this.blockIndices(storageOf(layer))) if (!owner.has(index)) owner.set(index, storageOf(layer));
    }
    const src = chain[0];
    const meta = await this.createLayer({ parent: null, imageId: src.imageId, blockSize: src.blockSize, label: label ?? `flattened ${src.label ?? id}` });
    const entries = [...owner.entries()].sort((a, b) => a[0] - b[0]);
    let written = 0;
    for (let i = 0; i < entries.length; i += COPY_CHUNK) {
      const chunk = entries.slice(i, i + COPY_CHUNK);
      const blocks: Array<readonly [number, Uint8Array]> = [];
      for (const [index, storage] of chunk) {
        const data = await this.readBlock(storage, index);
        if (!data) throw new LayerError(`block ${index} of layer storage ${storage} vanished while flattening`);
        blocks.push([index, data]);
      }
      written += blocks.length;
      await this.writeBlocks(meta.id, blocks, written);
    }
    return src.frozen ? this.freeze(meta.id) : this.mustGet(meta.id);
  }
}

/** Rolls back a transaction whose step failed (it may have finished already) and waits until it is over. */
async function abandon(tx: { abort(): void }, done: Promise<void>): Promise<void> {
  try {
    tx.abort();
  } catch {
    // already finished
  }
  await done.catch(() => {});
}
