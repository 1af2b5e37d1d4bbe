import { describe, expect, it } from "vitest";
import { validateMachineConfig } from "../../../src/protocol/machine-config";
import { FETCH_BACKEND, isRelayUrl } from "../../../src/protocol/network";
import { describeNetwork } from "../../../src/page/ui/network-panel";

describe("network and guest settings", () => {
  it("accepts WebSocket relays only", () => {
    for (const ok of ["wss://relay.example/", "ws://127.0.0.1:8080", "wisps://relay.example/wisp/", "wisp://10.0.0.1:6001"]) expect(isRelayUrl(ok), ok).toBe(true);
    for (const bad of ["http://relay", "fetch", "wss://", "relay.example"]) expect(isRelayUrl(bad), bad).toBe(false);
  });

  it("validates network and guest in a machine config", () => {
    expect(validateMachineConfig({ network: { enabled: false } }).network).toEqual({ enabled: false });
    expect(validateMachineConfig({ network: { relayUrl: "wss://r.example/" } }).network).toEqual({ relayUrl: "wss://r.example/" });
    expect(validateMachineConfig({ network: { relayUrl: "" } }).network).toEqual({});
    expect(() => validateMachineConfig({ network: { relayUrl: "http://x" } })).toThrow(/WebSocket relay/);
    expect(() => validateMachineConfig({ network: { enabled: "yes" } })).toThrow(/network.enabled/);
    expect(validateMachineConfig({ guest: "debian" }).guest).toBe("debian");
    expect(() => validateMachineConfig({ guest: "arch" })).toThrow(/guest must be one of busybox, debian/);
  });

  it("says what the network does in the page's words", () => {
    expect(describeNetwork({ enabled: true, present: true, backend: FETCH_BACKEND })).toBe("on: HTTP through this browser (fetch)");
    expect(describeNetwork({ enabled: true, present: true, backend: "wss://r/" })).toBe("on: relay wss://r/");
    expect(describeNetwork({ enabled: false, present: true, backend: FETCH_BACKEND })).toBe("off (cable unplugged)");
    expect(describeNetwork({ enabled: true, present: false, backend: FETCH_BACKEND })).toBe("on at the next boot");
  });
});
