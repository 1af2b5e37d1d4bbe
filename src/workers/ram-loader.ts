/** Entry of the RAM-loader worker of lazy restores (contract: src/protocol/ram-loader.ts). */
import { checkpointStore, layerStore } from "../checkpoint-io/stores";
import type { LoaderMessage, ToLoaderMessage } from "../protocol/ram-loader";
import { ramLoader } from "../lazy/ram-loader";

const handle = ramLoader({
  // The checkpoint store is what lazy restore reads verified chunks and manifests with (LocalCheckpoints).
  store: checkpointStore,
  // Loaded on first use (a separate chunk): share code stays out of local restores.
  async openShared(link) {
    const [bridge, { SharedRamSource }] = await Promise.all([import("../share/checkpoint-share"), import("../share/remote-ram-source")]);
    return SharedRamSource.resume(await bridge.browserShareDeps(checkpointStore, layerStore, link.store), link);
  },
  post: (message: LoaderMessage, transfer: Transferable[] = []) => self.postMessage(message, { transfer }),
});
self.addEventListener("message", (event: MessageEvent<ToLoaderMessage>) => handle(event.data));
