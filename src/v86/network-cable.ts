/**
 * Plugging and unplugging the network card's cable while the machine runs. v86 has no switch
 * for it: its card hands every frame to the backend's send() (bus event net0-send) and the
 * backend hands frames back through receive(). Unplugged, both drop frames, and the fetch
 * backend forgets its connections (the guest sees them time out or reset, as after a restore).
 * The card itself stays, so states saved either way have the same devices.
 */
import type { V86NetworkAdapter } from "./types";

export class NetworkCable {
  private plugged = true;
  private readonly send: V86NetworkAdapter["send"];
  private readonly receive: V86NetworkAdapter["receive"];

  constructor(private readonly adapter: V86NetworkAdapter) {
    this.send = adapter.send.bind(adapter);
    this.receive = adapter.receive.bind(adapter);
    adapter.send = (data) => {
      if (this.plugged) this.send(data);
    };
    adapter.receive = (data) => {
      if (this.plugged) this.receive(data);
    };
  }

  get enabled(): boolean {
    return this.plugged;
  }

  set enabled(on: boolean) {
    if (on === this.plugged) return;
    this.plugged = on;
    if (!on) this.dropConnections();
  }

  /** After a restore the guest's TCP state is from another moment: no old connection is valid. */
  dropConnections(): void {
    if (this.adapter.tcp_conn) this.adapter.tcp_conn = {};
  }
}
