/**
 * The network facet of the emulator worker. The card (virtio-net) is on every machine so every
 * checkpoint has the same devices; "off" unplugs its cable: the backend drops what the guest sends
 * and its open connections. The backend is v86's "fetch" adapter (HTTP to port 80 through the
 * browser's fetch, so CORS applies; DHCP and DNS answered in the page) unless the machine was
 * booted with a WebSocket relay URL (full TCP/UDP through that relay).
 */
export interface NetworkStatus {
  enabled: boolean;
  /** "fetch", or the relay URL the machine was booted with. */
  backend: string;
  /** There is a machine with a network card (false when off or booting). */
  present: boolean;
}

export interface NetworkFacet {
  status(): NetworkStatus;
  /** Plugs or unplugs the cable; open connections are dropped when it is unplugged. */
  setEnabled(enabled: boolean): NetworkStatus;
}

export const FETCH_BACKEND = "fetch";

/** Relay URLs v86 understands: wisp:// and wisps:// (Wisp protocol) or ws:// and wss:// (ethernet frames). */
export function isRelayUrl(url: string): boolean {
  return /^(wss?|wisps?):\/\/[^/\s]+/.test(url);
}
