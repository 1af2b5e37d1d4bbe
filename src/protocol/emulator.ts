/**
 * The contract between the page and the emulator worker (exposed with Comlink). The page never
 * sees the V86 object: it calls facet methods and listens to events. Each facet is a nested
 * object, and Comlink proxies nested property paths (`remote.checkpoints.list()`), so nothing
 * between the page and a facet's implementation is written by hand.
 */
import type { CheckpointsFacet } from "./checkpoints";
import type { DiskFacet } from "./disk";
import type { FilesFacet } from "./files";
import type { NetworkFacet } from "./network";
import type { EventListener } from "./events";
import type { MachineFacet } from "./machine";
import type { ResetFacet } from "./reset";
import type { ShareFacet } from "./share";

export interface EmulatorApi {
  /** One subscriber (the page's client); a new one replaces the old, e.g. after a reload. */
  subscribe(listener: EventListener): void;
  machine: MachineFacet;
  disk: DiskFacet;
  checkpoints: CheckpointsFacet;
  share: ShareFacet;
  reset: ResetFacet;
  files: FilesFacet;
  network: NetworkFacet;
}

export type FacetName = Exclude<keyof EmulatorApi, "subscribe">;
