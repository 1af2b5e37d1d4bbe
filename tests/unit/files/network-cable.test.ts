import { describe, expect, it } from "vitest";
import { NetworkCable } from "../../../src/v86/network-cable";
import type { V86NetworkAdapter } from "../../../src/v86/types";

function fakeAdapter() {
  const sent: number[] = [];
  const received: number[] = [];
  const adapter: V86NetworkAdapter = {
    send: (d) => void sent.push(d[0]),
    receive: (d) => void received.push(d[0]),
    tcp_conn: { "a:1": {} },
  };
  return { adapter, sent, received };
}

describe("the network cable", () => {
  it("passes frames both ways while plugged in", () => {
    const { adapter, sent, received } = fakeAdapter();
    const cable = new NetworkCable(adapter);
    adapter.send(new Uint8Array([1]));
    adapter.receive(new Uint8Array([2]));
    expect(cable.enabled).toBe(true);
    expect([sent, received]).toEqual([[1], [2]]);
  });

  it("unplugged, drops frames both ways and forgets the backend's connections; plugged again, passes them", () => {
    const { adapter, sent, received } = fakeAdapter();
    const cable = new NetworkCable(adapter);
    cable.enabled = false;
    adapter.send(new Uint8Array([3]));
    adapter.receive(new Uint8Array([4]));
    expect([sent, received]).toEqual([[], []]);
    expect(adapter.tcp_conn).toEqual({});
    cable.enabled = true;
    adapter.send(new Uint8Array([5]));
    expect(sent).toEqual([5]);
  });

  it("forgets connections after a restore without unplugging", () => {
    const { adapter } = fakeAdapter();
    const cable = new NetworkCable(adapter);
    cable.dropConnections();
    expect(adapter.tcp_conn).toEqual({});
    expect(cable.enabled).toBe(true);
  });
});
