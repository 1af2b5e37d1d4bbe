/**
 * Share jobs: upload and open encrypted share links (src/share). The share code is loaded on first
 * use (a separate chunk), so it stays out of every capture.
 */
import * as Comlink from "comlink";
import type { ShareJobs } from "../protocol/checkpoint-io";
import { checkpointStore, layerStore } from "./stores";

async function bridge(store?: string) {
  const share = await import("../share/checkpoint-share");
  return { share, deps: await share.browserShareDeps(checkpointStore, layerStore, store) };
}

export const shareJobs: ShareJobs = {
  async publish(id, appUrl, onProgress, signal, options) {
    const { share, deps } = await bridge();
    return share.publishCheckpoint(deps, id, appUrl, onProgress, signal, options);
  },

  async open(link, onProgress, signal, store) {
    const { share, deps } = await bridge(store);
    return share.openSharedCheckpoint(deps, link, onProgress, signal);
  },

  async prepare(link, onProgress, signal, store) {
    const { share, deps } = await bridge(store);
    const prepared = await share.prepareSharedCheckpoint(deps, link, onProgress, signal);
    if (prepared.kind !== "lazy") return prepared;
    // The RAM loader reads the rest from the same store.
    const handed = store ? { ...prepared, opened: { ...prepared.opened, store } } : prepared;
    return Comlink.transfer(handed, [handed.deviceState]);
  },
};
