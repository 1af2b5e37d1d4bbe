/**
 * Share jobs: upload and open encrypted share links (src/share). The share code is loaded on first
 * use (a separate chunk), so it stays out of every capture.
 */
import * as Comlink from "comlink";
import type { ShareJobs } from "../protocol/checkpoint-io";
import { checkpointStore, layerStore } from "./stores";

async function bridge() {
  const share = await import("../share/checkpoint-share");
  return { share, deps: await share.browserShareDeps(checkpointStore, layerStore) };
}

export const shareJobs: ShareJobs = {
  async publish(id, appUrl, onProgress, signal) {
    const { share, deps } = await bridge();
    return share.publishCheckpoint(deps, id, appUrl, onProgress, signal);
  },

  async open(link, onProgress, signal) {
    const { share, deps } = await bridge();
    return share.openSharedCheckpoint(deps, link, onProgress, signal);
  },

  async prepare(link, onProgress, signal) {
    const { share, deps } = await bridge();
    const prepared = await share.prepareSharedCheckpoint(deps, link, onProgress, signal);
    return prepared.kind === "lazy" ? Comlink.transfer(prepared, [prepared.deviceState]) : prepared;
  },
};
