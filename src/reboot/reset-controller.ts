/**
 * Reset as the page and the automation API see it: switch to the standby when one is ready, else
 * reset the running machine in place; then clear what the page itself still shows of the old
 * session (serial transcript, terminal) and prepare the next standby.
 */
import type { EmulatorClient } from "../api/emulator-client";
import type { MachineConfig } from "../shared/machine-config";
import { dispose, type Standby } from "./standby";

export interface ResetOutcome {
  /** From the call until the machine runs the golden state. */
  resetMs: number;
  usedStandby: boolean;
}

export class ResetController {
  private goldenId: string | undefined;
  private config: MachineConfig | undefined;
  private readonly clearers: Array<() => void> = [];

  constructor(
    private readonly client: EmulatorClient,
    readonly standby: Standby,
  ) {}

  /** Called once the running machine's golden checkpoint exists. */
  goldenReady(config: MachineConfig, goldenId: string): void {
    this.config = config;
    this.goldenId = goldenId;
    this.standby.prepare(config, goldenId);
  }

  /** After the standby was switched on: prepare one now if a golden state is known. */
  refreshStandby(): void {
    if (this.config && this.goldenId) this.standby.prepare(this.config, this.goldenId);
  }

  /** Something on the page that shows session output and must be emptied on reset. */
  onClear(fn: () => void): void {
    this.clearers.push(fn);
  }

  async reset(): Promise<ResetOutcome> {
    const t0 = performance.now();
    const spare = this.standby.take();
    let usedStandby = false;
    if (spare) {
      // Listen first, then resume: the spare's "running" event must reach the page.
      const old = this.client.adopt(spare);
      try {
        await spare.remote.resume();
        await this.client.whenState("running");
        void dispose(old);
        usedStandby = true;
      } catch {
        this.client.adopt(old);
        void dispose(spare);
      }
    }
    if (!usedStandby) await this.client.remote.reset();
    const resetMs = performance.now() - t0;
    this.client.serial.clear();
    for (const clear of this.clearers) clear();
    if (this.config && this.goldenId) this.standby.prepare(this.config, this.goldenId);
    return { resetMs, usedStandby };
  }
}
