/** The emulator worker's API: one machine-state owner, five facets acting through it. */
import type { EmulatorApi, EventListener } from "../protocol";
import { checkpointsFacet } from "./checkpoints-facet";
import { DiskFacetImpl } from "./disk-facet";
import { MachineFacetImpl } from "./machine-facet";
import { MachineOwner, type MarkTransfer } from "./machine-owner";
import { ResetFacetImpl } from "./reset-facet";
import { ShareFacetImpl } from "./share-facet";
import { FilesFacetImpl } from "./files-facet";
import { NetworkFacetImpl } from "./network-facet";
import { compileLazyWasm } from "../v86/lazy-support";

export function createEmulatorApi(markTransfer: MarkTransfer = (value) => value): EmulatorApi {
  // The wasm compiles while the page builds its UI and decides how to start (issue 14, part 2);
  // a page that cannot use it (no isolation, no marker) just never instantiates it.
  if (typeof SharedArrayBuffer !== "undefined") compileLazyWasm().catch(() => undefined);
  const owner = new MachineOwner(markTransfer);
  // The checkpoint-I/O worker loads now, beside the wasm: a page load's first question (is there
  // a session save to resume?) goes to it.
  owner.checkpoints();
  const machine = new MachineFacetImpl(owner);
  const checkpoints = checkpointsFacet(owner);
  owner.takeCheckpoint = (options) => checkpoints.take(options);
  return {
    subscribe: (listener: EventListener) => owner.subscribe(listener),
    machine,
    disk: new DiskFacetImpl(owner, machine),
    checkpoints,
    share: new ShareFacetImpl(owner, checkpoints),
    reset: new ResetFacetImpl(owner),
    files: new FilesFacetImpl(owner, markTransfer),
    network: new NetworkFacetImpl(owner),
  };
}
