/**
 * The network controls: whether the running machine's cable is plugged in (switchable at any
 * time), and an optional WebSocket relay used from the next boot on. The box follows what the
 * worker reports; the user's choice is kept for the machines that follow (a reboot, a reset
 * onto the standby machine), which start with the cable as their own config said.
 */
import type { NetworkStatus } from "../../protocol";
import { FETCH_BACKEND, isRelayUrl } from "../../protocol/network";
import type { NetworkConfig } from "../../protocol/machine-config";

export interface NetworkPanelDeps {
  setEnabled(enabled: boolean): Promise<NetworkStatus>;
  onError(message: string): void;
}

export function describeNetwork(status: NetworkStatus): string {
  if (!status.present) return status.enabled ? "on at the next boot" : "off";
  if (!status.enabled) return "off (cable unplugged)";
  return status.backend === FETCH_BACKEND ? "on: HTTP through this browser (fetch)" : `on: relay ${status.backend}`;
}

export function mountNetworkPanel(root: HTMLElement, deps: NetworkPanelDeps) {
  const box = root.querySelector<HTMLInputElement>("#network");
  const text = root.querySelector<HTMLElement>("#network-status");
  const relay = root.querySelector<HTMLInputElement>("#network-relay");
  if (!box || !text || !relay) throw new Error("network controls are missing");
  let wanted = box.checked;

  box.addEventListener("change", () => {
    wanted = box.checked;
    void deps.setEnabled(wanted).catch(() => undefined);
  });
  relay.addEventListener("change", () => {
    const url = relay.value.trim();
    relay.setCustomValidity(url === "" || isRelayUrl(url) ? "" : "A WebSocket relay URL: wss://, ws://, wisps:// or wisp://");
    if (!relay.reportValidity()) deps.onError("The relay URL must start with wss://, ws://, wisps:// or wisp://; it applies from the next boot.");
  });

  return {
    /** The network part of the next boot's config. */
    config(): NetworkConfig {
      const url = relay.value.trim();
      return { enabled: wanted, ...(url && isRelayUrl(url) ? { relayUrl: url } : {}) };
    },
    /** A boot asked for through the API may say otherwise: the box follows. */
    asked(config: NetworkConfig | undefined): void {
      if (config?.enabled !== undefined) wanted = box.checked = config.enabled;
    },
    show(status: NetworkStatus, origin: "start" | "set"): void {
      // A machine that started with another setting (a standby prepared before the switch) gets the user's.
      if (origin === "start" && status.present && status.enabled !== wanted) void deps.setEnabled(wanted).catch(() => undefined);
      else box.checked = wanted = origin === "set" ? status.enabled : wanted;
      text.textContent = describeNetwork(origin === "start" ? { ...status, enabled: wanted } : status);
      root.dataset.network = status.present && (origin === "start" ? wanted : status.enabled) ? "on" : "off";
    },
  };
}
