/**
 * The running machine's network as the worker keeps it: which backend it was built with and
 * whether its cable is plugged in. Owned by MachineOwner (the one state owner); the network
 * facet and the page act through it. The wish survives machines (a reboot or a restore keeps
 * the cable as the user left it); the cable itself belongs to one V86 instance.
 */
import type { NetworkConfig } from "../protocol/machine-config";
import { FETCH_BACKEND, type NetworkStatus } from "../protocol/network";
import { NetworkCable } from "../v86/network-cable";
import type { V86Instance, V86Options } from "../v86/types";

export class NetworkLink {
  private wanted = true;
  private backend = FETCH_BACKEND;
  private cable: NetworkCable | undefined;
  private emulator: V86Instance | undefined;

  constructor(private readonly report: (status: NetworkStatus, origin: "start" | "set") => void) {}

  /** The card and backend every machine gets (same devices in every state, whatever the cable). */
  options(config: NetworkConfig | undefined): Pick<V86Options, "net_device"> {
    this.wanted = config?.enabled ?? this.wanted;
    this.backend = config?.relayUrl ?? FETCH_BACKEND;
    return { net_device: { type: "virtio", relay_url: this.backend } };
  }

  /** v86 makes the backend once its wasm is loaded, before the first instruction or restore. */
  attach(emulator: V86Instance): void {
    this.emulator = emulator;
    emulator.add_listener("emulator-loaded", () => {
      if (this.emulator !== emulator) return;
      this.cable = emulator.network_adapter ? new NetworkCable(emulator.network_adapter) : undefined;
      if (this.cable) this.cable.enabled = this.wanted;
      this.report(this.status(), "start");
    });
  }

  detach(): void {
    this.emulator = undefined;
    this.cable = undefined;
  }

  /** A restore replaced the guest's TCP state: the backend's connections belong to another past. */
  restored(): void {
    this.cable?.dropConnections();
  }

  setEnabled(enabled: boolean): NetworkStatus {
    this.wanted = enabled;
    if (this.cable) this.cable.enabled = enabled;
    const status = this.status();
    this.report(status, "set");
    return status;
  }

  status(): NetworkStatus {
    return { enabled: this.cable ? this.cable.enabled : this.wanted, backend: this.backend, present: this.cable !== undefined };
  }
}
