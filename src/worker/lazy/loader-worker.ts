/**
 * Module worker spawned by the emulator worker for lazy restores. It keeps an event loop free
 * while the emulator worker blocks in a page fault: it reads chunks from IndexedDB, verifies and
 * decodes them into shared memory (faults) or posts them (prefetch). One worker serves every
 * restore of the emulator's lifetime; a new `begin` supersedes the previous session.
 */
import zstdWasmUrl from "../../../node_modules/@bokuweb/zstd-wasm/dist/web/zstd.wasm?url";
import { initCodec } from "../../checkpoint/codec";
import type { CheckpointManifest } from "../../checkpoint/manifest";
import { CheckpointStore } from "../../checkpoint/store";
import { LayerStore } from "../../disk/layer-store";
import { cachedChunkSource, DecodedChunkCache, StoreChunkSource, type ChunkSource } from "./chunk-source";
import type { FaultBuffers } from "./fault-channel";
import { runLoaderSession, type LoaderMessage } from "./loader-session";
import { RECORD_MS, recordWorkingSet, WorkingSetStore } from "./working-set-store";

/** Emulator worker -> loader. */
export interface BeginMessage {
  type: "begin";
  session: number;
  checkpointId: string;
  buffers: FaultBuffers;
  order: number[];
  /** A share link: RAM chunks come from the checkpoint store over the network (and are kept here). */
  share?: string;
  /** The checkpoint's manifest as the emulator worker has it: no IndexedDB read before "ready". */
  manifest?: CheckpointManifest;
}

let storePromise: Promise<CheckpointStore> | undefined;
const store = (): Promise<CheckpointStore> => (storePromise ??= initCodec(zstdWasmUrl).then(() => CheckpointStore.open()));
let layersPromise: Promise<LayerStore> | undefined;
const layers = (): Promise<LayerStore> => (layersPromise ??= LayerStore.open());
let workingSetsPromise: Promise<WorkingSetStore> | undefined;
const workingSets = (): Promise<WorkingSetStore> => (workingSetsPromise ??= WorkingSetStore.open());

const post = (message: LoaderMessage, transfer: Transferable[] = []): void => self.postMessage(message, { transfer });

/** Emulator worker -> loader, ahead of the first restore: open the stores now. */
export interface WarmMessage {
  type: "warm";
}

/** Emulator worker -> loader: pages the guest touched for the first time since the restore (its working set). */
export interface TouchedMessage {
  type: "touched";
  session: number;
  pages: number[];
}

/** 32 MiB of decoded chunks kept across restores (working sets are a few MiB). */
const decoded = new DecodedChunkCache(32 * 1024 * 1024);

/** The working-set recorder of each running session. */
const recorders = new Map<number, (pages: readonly number[]) => void>();

self.addEventListener("message", (event: MessageEvent<BeginMessage | WarmMessage | TouchedMessage>) => {
  const m = event.data;
  if (m?.type === "touched") {
    recorders.get(m.session)?.(m.pages);
    return;
  }
  if (m?.type === "warm") {
    void store().catch(() => undefined);
    void workingSets().catch(() => undefined);
    return;
  }
  if (m?.type !== "begin") return;
  void (async () => {
    try {
      const s = await store();
      const ws = await workingSets();
      const workingSet = await ws.get(m.checkpointId).catch(() => []);
      let source: ChunkSource;
      let onPrefetched: (() => Promise<void>) | undefined;
      if (m.share) {
        const [bridge, { SharedRamSource }] = await Promise.all([import("../../checkpoint/share-bridge"), import("../../checkpoint/shared-ram-source")]);
        const shared = await SharedRamSource.open(await bridge.browserShareDeps(store, layers), m.share);
        if (shared.manifest.id !== m.checkpointId) throw new Error(`the link names checkpoint ${shared.manifest.id}, not ${m.checkpointId}`);
        source = shared;
        onPrefetched = async () => {
          if (await shared.commitIfComplete()) post({ type: "stored", session: m.session });
        };
      } else {
        const manifest = m.manifest?.id === m.checkpointId ? m.manifest : await s.getManifest(m.checkpointId);
        if (!manifest) throw new Error(`checkpoint ${m.checkpointId} does not exist`);
        source = cachedChunkSource(new StoreChunkSource(s, manifest), manifest, decoded);
      }
      const record = recordWorkingSet(ws, m.checkpointId, undefined, workingSet);
      recorders.set(m.session, record);
      setTimeout(() => recorders.delete(m.session), RECORD_MS + 1000);
      post({ type: "ready", session: m.session });
      await runLoaderSession(source, { session: m.session, buffers: m.buffers, order: m.order, workingSet, onPrefetched }, post);
    } catch (e) {
      post({ type: "error", session: m.session, message: e instanceof Error ? e.message : String(e) });
    }
  })();
});
