/**
 * The built-in guest's root disk for one running machine: the verified base image (fetched by
 * Range, kept in the host cache), the session's copy-on-write overlay, and the V86Disk that v86
 * reads and writes. The session overlay is the newest unfrozen layer labelled "session" for the
 * image, so a reload continues on the same disk.
 */
import {
  acquireLayerLock,
  HttpBaseImage,
  LayerLockedError,
  LayerStore,
  Overlay,
  openWritableOverlay,
  PendingDeletions,
  unlessPending,
  V86Disk,
  wipe,
  type BlockSource,
  type LayerMeta,
  type StorageFullError,
} from "../disk";
import type { BlockHashList, GuestDiskFile } from "../protocol/guest-manifest";
import type { DiskInfo, NoticeLevel } from "../protocol";
import { Snap86Error } from "../protocol/errors";

export const SESSION_LABEL = "session";
/** A standby machine's layers: not the session a reload continues, until the standby is used. */
export const STANDBY_LABEL = "standby";

/**
 * The base image: the built-in guest's (its URL, published size, digest and block list) or one
 * already opened (a user's image: src/emulator/user-drives.ts).
 */
export type DiskSessionInit = DiskSessionCommon & ({ url: string; file: GuestDiskFile; blockHashes: BlockHashList } | { base: BlockSource });

interface DiskSessionCommon {
  secure: boolean;
  /** Start on a new session layer instead of continuing the newest one (a standby machine). */
  freshSession?: boolean;
  notice: (level: NoticeLevel, message: string) => void;
}

/** A fresh child of a frozen layer, opened ahead of a switch (DiskSession.prepareBranch). */
export interface PreparedBranch {
  readonly session: DiskSession;
  readonly overlay: Overlay;
}

export class DiskSession {
  /** Block deletions of layers this session dropped: a reset waits for them (whenWiped). */
  private readonly deletions: PendingDeletions;

  private constructor(
    readonly store: LayerStore,
    readonly base: BlockSource,
    private overlay: Overlay,
    readonly disk: V86Disk,
    readonly secure: boolean,
    readonly lockedElsewhere: boolean,
    private readonly init: DiskSessionInit,
  ) {
    this.deletions = new PendingDeletions((message) => init.notice("error", `Deleting session data failed: ${message}`));
    // Blocks left by a deletion cut short (a tab closed mid-reset, a terminated worker) go now.
    if (!secure) this.deletions.run("sweeping blocks of deleted layers", () => store.sweepOrphans());
  }

  static async open(init: DiskSessionInit): Promise<DiskSession> {
    const store = await LayerStore.open();
    const base =
      "base" in init
        ? init.base
        : await HttpBaseImage.open({
            url: init.url,
            size: init.file.size,
            sha256: init.file.sha256,
            blockSize: init.file.blockSize,
            blockHashes: init.blockHashes,
            db: store.db,
          });
    const { overlay, lockedElsewhere } = await openSessionOverlay(store, base, init);
    const disk = new V86Disk(overlay, {
      onError: (error, op) => init.notice("error", `Disk ${op} failed: ${(error as Error).message ?? String(error)}`),
    });
    return new DiskSession(store, base, overlay, disk, init.secure || lockedElsewhere, lockedElsewhere, init);
  }

  info(): DiskInfo {
    const o = this.overlay.stats();
    const b = this.base.stats();
    return {
      mode: this.secure ? "secure" : "persistent",
      layerId: o.layerId,
      overlayBytes: o.bytes,
      overlayBlocks: o.blocks,
      dirtyBytes: o.dirtyBytes,
      imageBytes: b.imageSize,
      baseFetchedBytes: b.bytesFetched,
      baseCachedBytes: b.blocksCached * this.base.blockSize,
      storageFull: o.storageFull,
      lockedElsewhere: this.lockedElsewhere,
      chainDepth: this.overlay.chain.layers.length,
    };
  }

  flush(): Promise<void> {
    return this.overlay.flush();
  }

  /** Call with the machine stopped: no IDE command may be in flight while the overlay changes. */
  async wipe(): Promise<void> {
    await this.disk.whenIdle();
    const old = this.overlay;
    old.discard();
    if (this.secure) {
      this.overlay = await Overlay.secure(this.base, null, null);
    } else {
      const { layer, blocksDeleted } = await wipe(this.store, old.layer.id);
      this.deletions.track(`wiping disk layer ${old.layer.id}`, blocksDeleted);
      this.overlay = await openWritableOverlay(this.store, layer.id, this.base, overlayOptions(this.init));
    }
    this.disk.attach(this.overlay);
  }

  /**
   * Resolves once every layer this session dropped (wiped, reset, restored over, collected) is
   * gone from IndexedDB, blocks included; rejects with what could not be deleted.
   */
  whenWiped(): Promise<void> {
    return this.deletions.settled();
  }

  /** "session", or "standby" for a spare machine until it is put to use. */
  private get label(): string {
    return this.init.freshSession && !this.promoted ? STANDBY_LABEL : SESSION_LABEL;
  }

  private promoted = false;

  /** The standby became the machine the user works on: a reload must continue its disk. */
  async promoteToSession(): Promise<void> {
    if (this.promoted || !this.init.freshSession || this.secure) return;
    this.promoted = true;
    await this.store.relabel(this.overlay.layer.id, SESSION_LABEL);
  }

  /** Nothing written yet, straight on the base image: a boot from here is a boot of the pristine image. */
  isEmptyOnBase(): boolean {
    return this.overlay.layer.parent === null && this.overlay.stats().blocks === 0;
  }

  /** The id of the layer the guest writes to now. */
  get layerId(): string {
    return this.overlay.layer.id;
  }

  /**
   * The disk half of a checkpoint (machine stopped, IDE idle): the session layer becomes immutable
   * and the guest goes on writing to a fresh child. Returns the frozen layer's id.
   */
  async freezeAndContinue(): Promise<string> {
    if (this.secure) throw new Snap86Error("unsupported", "Checkpoints are not available in a secure session: nothing of it may reach storage");
    await this.disk.whenIdle();
    const old = this.overlay;
    await old.flush();
    await this.store.freeze(old.layer.id);
    await old.close();
    const child = await this.store.createChild(old.layer.id, this.label);
    this.overlay = await openWritableOverlay(this.store, child.id, this.base, { ...overlayOptions(this.init), warm: old.cleanBlocks() });
    this.disk.attach(this.overlay);
    return old.layer.id;
  }

  /**
   * Continues on a fresh child of a checkpoint's frozen layer (restore). The session layer being
   * left holds only changes made since the last checkpoint, which a restore discards.
   */
  async branchFrom(frozenLayerId: string): Promise<void> {
    const branch = await this.prepareBranch(frozenLayerId);
    await this.disk.whenIdle();
    this.switchTo(branch);
  }

  /**
   * The IndexedDB half of a branch, done while the guest still runs: a fresh child of a frozen
   * layer, opened. A reset then switches to it without a transaction while the guest is stopped.
   * The child is labelled as the session at once: a reload in between continues on it, which is
   * the golden disk the reset was about to give anyway.
   */
  async prepareBranch(frozenLayerId: string): Promise<PreparedBranch> {
    if (this.secure) throw new Snap86Error("unsupported", "Checkpoints are not available in a secure session");
    const child = await this.store.createChild(frozenLayerId, this.label);
    return { session: this, overlay: await openWritableOverlay(this.store, child.id, this.base, overlayOptions(this.init)) };
  }

  /** Continues on a prepared branch (machine stopped, IDE idle): no IndexedDB wait. */
  switchTo(branch: PreparedBranch): void {
    if (branch.session !== this) throw new Snap86Error("internal", "a branch prepared for another drive");
    const old = this.overlay;
    old.discard();
    this.overlay = branch.overlay;
    this.disk.attach(branch.overlay);
    this.dropLayer(old.layer.id, "the session layer left by a restore or reset");
  }

  /** A prepared branch that will not be used (the reset failed before the switch). */
  discardBranch(branch: PreparedBranch): void {
    branch.overlay.discard();
    this.dropLayer(branch.overlay.layer.id, "an unused branch");
  }

  /** Deletes a layer; its blocks go in the background, followed by whenWiped(). */
  private dropLayer(id: string, what: string): void {
    this.deletions.run(`deleting ${what} (${id})`, async () => (await this.store.deleteLayer(id)).blocksDeleted);
  }

  /**
   * Folds a layer no checkpoint names any more (a replaced session save) into its only child
   * (LayerStore.commitIntoParent): the child keeps its id and takes the blocks, so the chain gets
   * one layer shorter. Nothing happens when the layer is gone or not frozen, has no child (garbage
   * collection deletes it) or several, its child is not frozen (the live layer), or it is not in
   * this drive's backing chain.
   */
  async foldUnreferencedLayer(layerId: string): Promise<boolean> {
    if (this.secure) return false;
    const layers = await this.store.listLayers();
    const layer = layers.find((l) => l.id === layerId);
    const children = layers.filter((l) => l.parent === layerId);
    const child = children.length === 1 ? children[0] : undefined;
    // Another drive's layer: its own session folds it, with its own chain.
    if (!layer?.frozen || !child?.frozen || !this.overlay.chain.layers.some((l) => l.id === child.id)) return false;
    const done = await this.store.commitIntoParent(child.id);
    this.overlay.chain.committed(child.id, done.storage);
    this.deletions.track(`deleting the blocks of disk layer ${child.id} committed into ${layerId}`, this.store.deleteBlocksOf(done.oldStorage));
    return true;
  }

  /**
   * Deletes frozen layers no checkpoint references and nothing reads through, walking up each
   * chain as children go away. `referenced` are the layers checkpoints name.
   */
  async dropUnreferencedLayers(referenced: Set<string>): Promise<number> {
    let dropped = 0;
    for (;;) {
      const layers = (await this.store.listLayers()).filter((l) => l.imageId === this.base.imageId);
      const parents = new Set(layers.map((l) => l.parent));
      const victims = layers.filter((l) => l.frozen && !referenced.has(l.id) && !parents.has(l.id));
      let round = 0;
      for (const v of victims) {
        // A layer whose checkpoint is still being written (in any worker or tab) is not garbage.
        const deleted = await unlessPending(v.id, async () => {
          const { blocksDeleted } = await this.store.deleteLayer(v.id);
          this.deletions.track(`deleting unreferenced disk layer ${v.id}`, blocksDeleted);
          return true;
        });
        if (deleted) round++;
      }
      if (round === 0) return dropped;
      dropped += round;
    }
  }

  async close(): Promise<void> {
    await this.overlay.close();
  }

  /**
   * Forgets the session's disk changes for good (a machine replaced by its standby). Resolves once
   * they are gone from IndexedDB: the worker is terminated right after, which would cut a
   * background delete short.
   */
  async discard(): Promise<void> {
    await this.disk.whenIdle();
    this.overlay.discard();
    if (!this.secure) this.dropLayer(this.overlay.layer.id, "the discarded session layer");
    await this.deletions.settled();
  }
}

/** Clean blocks kept in memory: reads of recently used data then never wait for IndexedDB. */
const OVERLAY_CACHE_BYTES = 64 * 1024 * 1024;

function overlayOptions(init: DiskSessionInit) {
  return {
    cacheBytes: OVERLAY_CACHE_BYTES,
    onStorageFull: (e: StorageFullError) =>
      init.notice("error", `${e.message}. The VM keeps running; new disk writes stay in memory until space is freed.`),
    onFlushError: (e: unknown) => init.notice("warning", `Saving disk changes failed, will retry: ${(e as Error).message ?? String(e)}`),
  };
}

async function openSessionOverlay(store: LayerStore, base: BlockSource, init: DiskSessionInit) {
  if (init.secure) return { overlay: await Overlay.secure(base, null, null), lockedElsewhere: false };
  const all = await store.listLayers();
  // Their blocks become orphans, which the session's sweep removes.
  if (!init.freshSession) await dropAbandonedStandbys(store, all, init);
  const sessions = init.freshSession
    ? []
    : all.filter((l) => l.imageId === base.imageId && !l.frozen && l.label === SESSION_LABEL).sort((a, b) => b.created - a.created);
  const label = init.freshSession ? STANDBY_LABEL : SESSION_LABEL;
  const layer = sessions[0] ?? (await store.createLayer({ parent: null, imageId: base.imageId, blockSize: base.blockSize, label }));
  try {
    return { overlay: await openWritableOverlay(store, layer.id, base, overlayOptions(init)), lockedElsewhere: false };
  } catch (e) {
    if (!(e instanceof LayerLockedError)) throw e;
    init.notice(
      "warning",
      "This disk is open in another tab. This tab runs on a temporary copy of the clean image: nothing it writes is saved.",
    );
    return { overlay: await Overlay.secure(base, null, null), lockedElsewhere: true };
  }
}

/** Standby layers of pages that are gone (nobody holds their lock) are never used again. */
async function dropAbandonedStandbys(store: LayerStore, layers: readonly LayerMeta[], init: DiskSessionInit): Promise<void> {
  for (const l of layers) {
    if (l.frozen || l.label !== STANDBY_LABEL) continue;
    const lock = await acquireLayerLock(l.id);
    if (!lock) continue;
    try {
      await store.deleteLayer(l.id);
    } catch (e) {
      init.notice("warning", `An abandoned standby disk could not be deleted: ${(e as Error).message ?? String(e)}`);
    } finally {
      lock.release();
    }
  }
}
