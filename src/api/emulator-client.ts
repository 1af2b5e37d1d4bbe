/**
 * The main thread's single handle on the emulator worker. It owns the Comlink bridge, keeps the
 * serial transcript and the last run state, and fans events out to the UI and automation API.
 */
import * as Comlink from "comlink";
import type { EmulatorApi, EmulatorEvent, RunState } from "../shared/protocol";
import { SerialLog } from "./serial-log";

type Handler = (event: EmulatorEvent) => void;

export class EmulatorClient {
  readonly remote: Comlink.Remote<EmulatorApi>;
  readonly serial = new SerialLog();
  private handlers = new Set<Handler>();
  private worker: Worker;
  state: RunState = "off";
  lastError: string | undefined;

  constructor() {
    this.worker = new Worker(new URL("../worker/index.ts", import.meta.url), { type: "module", name: "emulator" });
    this.remote = Comlink.wrap<EmulatorApi>(this.worker);
    void this.remote.subscribe(Comlink.proxy((event: EmulatorEvent) => this.dispatch(event)));
  }

  on(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  private dispatch(event: EmulatorEvent): void {
    if (event.type === "serial") this.serial.append(event.data);
    if (event.type === "state") {
      this.state = event.state;
      this.lastError = event.error;
    }
    for (const h of this.handlers) h(event);
  }
}
