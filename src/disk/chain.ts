/**
 * What lies below a live overlay: its frozen ancestor layers (nearest first), then the base image.
 * A block is served by the nearest layer that stores it; blocks are always returned at full blockSize
 * (the base image's short last block is zero-padded) so every layer stores uniform blocks.
 */
import type { BlockSource } from "./base-image";
import { storageOf } from "./db";
import { LayerError } from "./errors";
import type { LayerStore } from "./layer-store";

export interface ChainLayer {
  id: string;
  /** Key its blocks are stored under (storageOf). */
  storage: string;
  /** Block indices this layer stores. Frozen layers change only by a commit, which updates this (commitTop). */
  blocks: ReadonlySet<number>;
}

export class LayerChain {
  readonly blockSize: number;
  readonly size: number;

  constructor(
    readonly base: BlockSource,
    private readonly store: LayerStore | null,
    /** Nearest first. */
    private chainLayers: readonly ChainLayer[],
  ) {
    this.blockSize = base.blockSize;
    this.size = base.size;
    if (chainLayers.length > 0 && !store) throw new LayerError("a chain with layers needs a layer store");
  }

  /** Nearest first. */
  get layers(): readonly ChainLayer[] {
    return this.chainLayers;
  }

  /**
   * Follows LayerStore.commitIntoParent of layer `child` of this chain, once that transaction
   * committed: `child` now reads from its parent's storage, which holds both layers' blocks, and the
   * parent is gone. Synchronous, so every read issued from here on uses the new chain, and every read
   * issued before it was queued in IndexedDB before the child's old blocks can be deleted.
   * Returns false when `child` is not in this chain.
   */
  committed(child: string, storage: string): boolean {
    const at = this.chainLayers.findIndex((l) => l.id === child);
    if (at < 0) return false;
    const upper = this.chainLayers[at];
    const lower = this.chainLayers[at + 1];
    if (!lower || lower.storage !== storage) throw new LayerError(`disk layer ${child} of this chain does not sit on storage ${storage}`);
    const merged: ChainLayer = { id: upper.id, storage, blocks: new Set([...lower.blocks, ...upper.blocks]) };
    this.chainLayers = [...this.chainLayers.slice(0, at), merged, ...this.chainLayers.slice(at + 2)];
    return true;
  }

  /** The chain below a layer whose parent is `parentId` (null: directly on the base image). */
  static async open(store: LayerStore | null, base: BlockSource, parentId: string | null): Promise<LayerChain> {
    if (parentId === null) return new LayerChain(base, store, []);
    if (!store) throw new LayerError("a chain with layers needs a layer store");
    const layers: ChainLayer[] = [];
    for (const meta of await store.ancestry(parentId)) {
      if (meta.imageId !== base.imageId) throw new LayerError(`disk layer ${meta.id} belongs to image ${meta.imageId}, not ${base.imageId}`);
      if (meta.blockSize !== base.blockSize) throw new LayerError(`disk layer ${meta.id} uses ${meta.blockSize}-byte blocks, image uses ${base.blockSize}`);
      if (!meta.frozen) throw new LayerError(`disk layer ${meta.id} is below another layer but not frozen`);
      layers.push({ id: meta.id, storage: storageOf(meta), blocks: new Set(await store.blockIndices(storageOf(meta))) });
    }
    return new LayerChain(base, store, layers);
  }

  get blockCount(): number {
    return Math.ceil(this.size / this.blockSize);
  }

  /** Block `index` as seen through the chain. The result may be shared: copy before modifying. */
  async readBlock(index: number): Promise<Uint8Array> {
    for (const layer of this.chainLayers) {
      if (!layer.blocks.has(index)) continue;
      const data = await this.store!.readBlock(layer.storage, index);
      if (!data) throw new LayerError(`block ${index} of disk layer ${layer.id} is missing from storage`);
      return data;
    }
    const data = await this.base.readBlock(index);
    if (data.byteLength === this.blockSize) return data;
    const padded = new Uint8Array(this.blockSize);
    padded.set(data);
    return padded;
  }
}
