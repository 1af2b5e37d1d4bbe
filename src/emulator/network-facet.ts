/** The network facet: the running machine's network cable (see src/protocol/network.ts). */
import type { NetworkFacet, NetworkStatus } from "../protocol";
import type { MachineOwner } from "./machine-owner";

export class NetworkFacetImpl implements NetworkFacet {
  constructor(private readonly m: MachineOwner) {}

  status(): NetworkStatus {
    return this.m.network.status();
  }

  setEnabled(enabled: boolean): NetworkStatus {
    return this.m.network.setEnabled(enabled);
  }
}
