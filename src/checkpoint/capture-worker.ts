/**
 * Module Web Worker that does checkpoint I/O off the emulator worker: the emulator worker only
 * stops the VM, copies RAM (engine.copyRam) and saves device state, then transfers both here
 * and may resume at once. Create with
 *   new Worker(new URL("../checkpoint/capture-worker.ts", import.meta.url), { type: "module" })
 * and wrap with Comlink.wrap<CaptureWorkerApi>(worker).
 */
import * as Comlink from "comlink";
import zstdWasmUrl from "../../node_modules/@bokuweb/zstd-wasm/dist/web/zstd.wasm?url";
import { captureCheckpoint, type CaptureMeta, type CaptureProgress, type CaptureTimings } from "./capture";
import { initCodec } from "./codec";
import { collectGarbage, deleteCheckpoint, labelCheckpoint, listCheckpoints, type CheckpointSummary, type GcOptions, type GcResult } from "./gc";
import type { CheckpointManifest } from "./manifest";
import { loadCheckpoint, readDeviceState } from "./restore";
import { CheckpointStore } from "./store";
import type { ShareResult } from "../shared/protocol";
import type { PreparedShare } from "./share-bridge";
import { LayerStore } from "../disk/layer-store";
import { diskSectionImporter, diskSections } from "./disk-sections";
import { exportCheckpointBlob, importCheckpoint, parseContainer } from "./export-format";
import { decodeManifest, manifestChunkHashes } from "./manifest";
import { sharingSizes, type SharingSizes } from "./sharing";

let storePromise: Promise<CheckpointStore> | undefined;
let layerStorePromise: Promise<LayerStore> | undefined;

function layers(): Promise<LayerStore> {
  layerStorePromise ??= LayerStore.open();
  return layerStorePromise;
}

function store(): Promise<CheckpointStore> {
  storePromise ??= initCodec(zstdWasmUrl).then(() => CheckpointStore.open());
  return storePromise;
}

export interface CaptureResult {
  manifest: CheckpointManifest;
  timings: Partial<CaptureTimings>;
  /** The RAM staging buffer, transferred back so the emulator worker can reuse it. */
  ram: Uint8Array;
}

export interface LoadResult {
  manifest: CheckpointManifest;
  deviceState: ArrayBuffer;
  ram: Uint8Array;
}

const api = {
  async capture(meta: CaptureMeta, ram: Uint8Array, deviceState: ArrayBuffer, onProgress?: (p: CaptureProgress) => void): Promise<CaptureResult> {
    const timings: Partial<CaptureTimings> = {};
    const manifest = await captureCheckpoint(await store(), { ...meta, ram, deviceState }, onProgress, timings);
    return Comlink.transfer({ manifest, timings, ram }, [ram.buffer]);
  },

  /** Reads and verifies a checkpoint; `staging` (memoryBytes long) is reused if given. */
  async load(id: string, staging?: Uint8Array): Promise<LoadResult> {
    const r = await loadCheckpoint(await store(), id, staging);
    return Comlink.transfer(r, [r.ram.buffer, r.deviceState]);
  },

  /** Manifest and device state only: a lazy restore fetches RAM chunks on demand (src/worker/lazy). */
  async loadLazy(id: string): Promise<{ manifest: CheckpointManifest; deviceState: ArrayBuffer }> {
    const s = await store();
    const manifest = await s.getManifest(id);
    if (!manifest) throw new Error(`Checkpoint ${id} does not exist in this browser (deleted, or saved in another browser profile)`);
    const deviceState = await readDeviceState(s, manifest);
    return Comlink.transfer({ manifest, deviceState }, [deviceState]);
  },

  async list(): Promise<Array<CheckpointSummary & SharingSizes>> {
    const s = await store();
    const [summaries, manifests] = await Promise.all([listCheckpoints(s), s.listManifests()]);
    const hashes = new Set<string>();
    for (const m of manifests) for (const h of manifestChunkHashes(m)) hashes.add(h);
    const sharing = sharingSizes(manifests, await s.storedSizes(hashes));
    return summaries.map((c) => ({ ...c, ...(sharing.get(c.id) ?? { ownBytes: 0, sharedBytes: 0 }) }));
  },

  /** The checkpoint, its chunks and its (flattened) disk layer as one .snap86 file. */
  async exportFile(id: string): Promise<Blob> {
    const s = await store();
    const manifest = await s.getManifest(id);
    if (!manifest) throw new Error(`checkpoint ${id} does not exist`);
    const extra = manifest.diskLayerId ? diskSections(await layers(), manifest.diskLayerId) : undefined;
    return exportCheckpointBlob(s, id, extra);
  },

  async importFile(file: Blob): Promise<{ id: string; alreadyPresent: boolean }> {
    const s = await store();
    const bytes = new Uint8Array(await file.arrayBuffer());
    // The manifest names its disk layer; disk sections for any other layer are refused.
    const first = parseContainer(bytes)[0];
    const diskLayerId = first ? decodeManifest(first.payload).diskLayerId : null;
    const r = await importCheckpoint(s, bytes, diskSectionImporter(await layers(), diskLayerId));
    return { id: r.manifest.id, alreadyPresent: r.alreadyPresent };
  },

  async label(id: string, label: string): Promise<void> {
    await labelCheckpoint(await store(), id, label);
  },

  async remove(id: string): Promise<{ releasedDiskLayerIds: string[] }> {
    const released = await deleteCheckpoint(await store(), id);
    // What only this checkpoint used: its share key (a secret that opens its link, useless for
    // re-sharing once it is gone) and its working set. Links already given keep working.
    const [{ ShareKeyStore }, { WorkingSetStore }] = await Promise.all([import("../share/key-store"), import("../worker/lazy/working-set-store")]);
    const forget = async (open: () => Promise<{ delete(id: string): Promise<void>; close(): void }>) => {
      const db = await open();
      try {
        await db.delete(id);
      } finally {
        db.close();
      }
    };
    await Promise.allSettled([forget(() => ShareKeyStore.open()), forget(() => WorkingSetStore.open())]);
    return released;
  },

  // --- sharing (src/share): implemented by the share integration ---
  // Loaded on first use (a separate chunk): the bridge and its deps stay out of every capture.
  /** Encrypts the checkpoint and uploads what the store lacks; see share-bridge.ts. */
  async share(id: string, appUrl: string, onProgress?: (p: { phase: "upload" | "download"; done: number; total: number }) => void): Promise<ShareResult> {
    const bridge = await import("./share-bridge");
    return bridge.publishCheckpoint(await bridge.browserShareDeps(store, layers), id, appUrl, onProgress);
  },

  /** Fetches, verifies and imports a shared checkpoint; returns its id. */
  async openShare(link: string, onProgress?: (p: { phase: "upload" | "download"; done: number; total: number }) => void): Promise<string> {
    const bridge = await import("./share-bridge");
    return bridge.openSharedCheckpoint(await bridge.browserShareDeps(store, layers), link, onProgress);
  },
  /**
   * A lazy open's first half: device state and disk layer fetched and stored, RAM left to the
   * lazy-restore loader (which lists the checkpoint once all of it is stored).
   */
  async prepareShare(link: string, onProgress?: (p: { phase: "upload" | "download"; done: number; total: number }) => void): Promise<PreparedShare> {
    const bridge = await import("./share-bridge");
    const prepared = await bridge.prepareSharedCheckpoint(await bridge.browserShareDeps(store, layers), link, onProgress);
    return prepared.kind === "lazy" ? Comlink.transfer(prepared, [prepared.deviceState]) : prepared;
  },
  // --- end sharing ---

  async gc(options?: Omit<GcOptions, "locks">): Promise<GcResult> {
    return collectGarbage(await store(), options);
  },
};

export type CaptureWorkerApi = typeof api;

Comlink.expose(api);
