/**
 * The IndexedDB stores a helper worker (checkpoint-I/O, RAM loader) opens, each once per worker,
 * with the zstd codec initialised before the first chunk is read or written.
 */
import zstdWasmUrl from "../../node_modules/@bokuweb/zstd-wasm/dist/web/zstd.wasm?url";
import { initCodec } from "../checkpoint/codec";
import { CheckpointStore } from "../checkpoint/checkpoint-store";
import { LayerStore } from "../disk/layer-store";

let storePromise: Promise<CheckpointStore> | undefined;
let layerStorePromise: Promise<LayerStore> | undefined;

export function checkpointStore(): Promise<CheckpointStore> {
  storePromise ??= initCodec(zstdWasmUrl).then(() => CheckpointStore.open());
  return storePromise;
}

export function layerStore(): Promise<LayerStore> {
  layerStorePromise ??= LayerStore.open();
  return layerStorePromise;
}
