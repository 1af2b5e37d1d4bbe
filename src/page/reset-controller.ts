/**
 * Reset as the page and the automation API see it: switch to the standby when one is ready, else
 * reset the running machine in place; then clear what the page itself still shows of the old
 * session (serial transcript, terminal) and prepare the next standby.
 */
import type { EmulatorClient } from "./emulator-client";
import type { MachineConfig } from "../protocol/machine-config";
import type { EmulatorWorker } from "./emulator-client";
import { dispose, reportDisposeFailure, type Standby } from "./standby";
import { Snap86Error } from "../protocol/errors";

export const OWN_IMAGE_RESET = "Reset returns the built-in guest to its clean state; your own image has no reset point yet";

export interface ResetOutcome {
  /** From the call until the machine runs the golden state. */
  resetMs: number;
  usedStandby: boolean;
  /** From the call until the old session was deleted from IndexedDB (when reset() resolves). */
  wipeMs: number;
  /** In place only: the reset action in the worker, and the RAM pages it copied back (written since the golden state). */
  actionMs?: number;
  restoreMs?: number;
  pagesCopied?: number;
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

  /**
   * Resolves once the old session is gone for good (its disk blocks, autosaves and their chunks
   * deleted from IndexedDB); `resetMs` is how long until the golden state ran. Rejects when some
   * of it could not be deleted (the machine is reset all the same; the next start retries).
   */
  async reset(): Promise<ResetOutcome> {
    // The standby and the golden state are the built-in guest's: never switch a user's image to them.
    if (this.client.machine === "own-image") throw new Snap86Error("unsupported", OWN_IMAGE_RESET);
    const t0 = performance.now();
    const endedAt = Date.now();
    const spare = this.standby.take();
    let replaced: EmulatorWorker | undefined;
    if (spare) {
      // Listen first, then resume: the spare's "running" event must reach the page.
      const old = this.client.adopt(spare);
      try {
        await spare.remote.machine.resume();
        await this.client.whenState("running");
        replaced = old;
      } catch {
        this.client.adopt(old);
        void dispose(spare).catch(reportDisposeFailure);
      }
    }
    // The in-place reset resolves after its wipe and says when the golden state began to run.
    const inPlace = replaced ? undefined : await this.client.remote.reset.reset();
    const ranAt = inPlace ? inPlace.ranAt : performance.timeOrigin + performance.now();
    const resetMs = ranAt - (performance.timeOrigin + t0);
    this.client.serial.clear();
    this.client.automation.clear();
    for (const clear of this.clearers) clear();
    if (this.config && this.goldenId) this.standby.prepare(this.config, this.goldenId);
    // The replaced worker is terminated once its session is deleted (never before: that would
    // cut the deletion short and leave the session's blocks in IndexedDB).
    if (replaced) await dispose(replaced, { endedAt });
    return {
      resetMs,
      usedStandby: replaced !== undefined,
      wipeMs: performance.now() - t0,
      ...(inPlace ? { actionMs: inPlace.actionMs, restoreMs: inPlace.restoreMs, pagesCopied: inPlace.pagesCopied } : {}),
    };
  }
}
