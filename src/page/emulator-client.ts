/**
 * The main thread's single handle on the emulator. It owns the Comlink bridge to the worker that
 * runs the machine the user sees, keeps the serial transcript and the last run state, and fans
 * events out to the UI and automation API. A standby machine can be swapped in (`adopt`): the UI
 * and API keep talking to this client and never notice the worker changed.
 */
import * as Comlink from "comlink";
import type { EmulatorApi, EmulatorEvent, MachineKind, RunState } from "../protocol";
import type { RemoteFacets } from "../protocol/remote";
import { installTransferHandlers } from "../protocol/transfer";

/** The emulator worker as the page holds it: `remote.checkpoints.list()` and so on. */
export type EmulatorRemote = RemoteFacets<EmulatorApi>;
import { SerialLog } from "./serial-log";
import { Snap86Error, type WireError } from "../protocol/errors";

type Handler = (event: EmulatorEvent) => void;

export interface EmulatorWorker {
  worker: Worker;
  remote: EmulatorRemote;
}

export function spawnEmulatorWorker(name = "emulator"): EmulatorWorker {
  installTransferHandlers();
  const worker = new Worker(new URL("../workers/emulator.ts", import.meta.url), { type: "module", name });
  return { worker, remote: Comlink.wrap(worker) as unknown as EmulatorRemote };
}

/** The page's worker, started by the entry before the UI's code loads (src/page/entry.ts). */
let early: EmulatorWorker | undefined;

/** Starts the page's emulator worker now; the EmulatorClient created later takes it. */
export function startEmulatorWorker(): void {
  early ??= spawnEmulatorWorker();
}

export class EmulatorClient {
  /** The user's terminal (ttyS0), as the guest printed it. */
  readonly serial = new SerialLog();
  /** The automation channel (ttyS1 of the built-in guest): what run() reads; never shown. */
  readonly automation = new SerialLog();
  private handlers = new Set<Handler>();
  private current: EmulatorWorker;
  /** Events of a worker that was swapped out are dropped: only the current machine speaks. */
  private generation = 0;
  state: RunState = "off";
  /** Why the machine last stopped with an error (the state event's), until the next state. */
  lastError: WireError | undefined;
  /** What runs (the worker says), so the page acts on that machine and no other. */
  machine: MachineKind | undefined;
  /** The running machine's identity key: its checkpoints carry the same (CheckpointInfo.machineKey). */
  machineKey: string | undefined;

  constructor() {
    this.current = early ?? spawnEmulatorWorker();
    early = undefined;
    this.listen(this.current);
  }

  get remote(): EmulatorRemote {
    return this.current.remote;
  }

  /** Makes `next` the machine the page shows; returns the previous one for the caller to dispose of. */
  adopt(next: EmulatorWorker): EmulatorWorker {
    const previous = this.current;
    this.current = next;
    // Unknown until the new machine reports: it must not inherit the old one's "running".
    this.state = "loading";
    this.listen(next);
    return previous;
  }

  /**
   * Resolves once the machine reports `state`. Events travel on their own message port, so they
   * can arrive after the reply of the call that caused them: wait for the event, not the reply.
   */
  whenState(state: RunState, timeoutMs = 5_000): Promise<void> {
    if (this.state === state) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Snap86Error("timeout", `The machine did not become ${state} (it is ${this.state})`));
      }, timeoutMs);
      const off = this.on((event) => {
        if (event.type === "state" && event.state === state) {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
    });
  }

  /** Resolves at the machine's next state event, or after `ms` (a paused machine may stay so). */
  nextState(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        resolve();
      };
      const timer = setTimeout(done, ms);
      const off = this.on((event) => event.type === "state" && done());
    });
  }

  on(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  private listen(target: EmulatorWorker): void {
    const generation = ++this.generation;
    void target.remote.subscribe(
      Comlink.proxy((event: EmulatorEvent) => {
        if (generation === this.generation) this.dispatch(event);
      }),
    );
  }

  private dispatch(event: EmulatorEvent): void {
    if (event.type === "serial") this.serial.append(event.data);
    if (event.type === "automation") this.automation.append(event.data);
    if (event.type === "state") {
      this.state = event.state;
      this.lastError = event.error;
      this.machine = event.machine;
      this.machineKey = event.machineKey;
    }
    for (const h of this.handlers) h(event);
  }
}
