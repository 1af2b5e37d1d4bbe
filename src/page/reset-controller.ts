/**
 * Reset as the page and the automation API see it: switch to the standby when one is ready, else
 * reset the running machine in place; then clear what the page itself still shows of the old
 * session (serial transcript, terminal) and prepare the next standby.
 */
import type { EmulatorClient } from "./emulator-client";
import type { MachineConfig } from "../protocol/machine-config";
import type { EmulatorWorker } from "./emulator-client";
import { dispose, reportDisposeFailure, type Standby } from "./standby";
import type { CheckpointInfo } from "../protocol";

/** Why Reset is disabled while a user's machine without a reset point runs. */
export const NO_RESET_POINT = "This machine has no reset point yet: take a checkpoint and choose “Use as reset point” on it";

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
  /** The machine the golden state (reset point) belongs to: its standby is that machine's only. */
  private goldenKey: string | undefined;
  /** The config of the machine the page booted last (a reset point chosen later is for it). */
  private running: MachineConfig | undefined;
  private readonly clearers: Array<() => void> = [];

  constructor(
    private readonly client: EmulatorClient,
    readonly standby: Standby,
  ) {}

  /** Called once the running machine's golden checkpoint exists. */
  goldenReady(config: MachineConfig, goldenId: string, machineKey = this.client.machineKey): void {
    this.config = config;
    this.goldenId = goldenId;
    this.goldenKey = machineKey;
    // A spare machine restores all of the golden RAM: on two cores that competes with the lazy
    // restore of the session that just started (its first pages, the shell's first answer).
    void this.whenRestored().then(() => {
      if (this.goldenId === goldenId) this.standby.prepare(config, goldenId);
    });
  }

  /** Resolves once the running machine has all of its RAM (no lazy restore loading), or stops. */
  private whenRestored(): Promise<void> {
    return new Promise<void>((resolve) => {
      const stop = this.client.on((event) => {
        if ((event.type === "lazy" && !event.status.active) || (event.type === "state" && event.state !== "running" && event.state !== "paused")) done();
      });
      const done = () => {
        stop();
        resolve();
      };
      // Asked after listening, so a restore that completes in between is not missed.
      void this.client.remote.checkpoints.lazyStatus().then((s) => !s.active && done(), done);
    });
  }

  /** The page booted `config`: a reset point chosen from now on is that machine's. */
  machineStarted(config: MachineConfig): void {
    this.running = config;
  }

  /** A checkpoint of the running machine became its reset point (setResetPoint resolved with it). */
  resetPointSet(point: CheckpointInfo): void {
    const config = this.running ?? this.config;
    if (config) this.goldenReady(config, point.id, point.machineKey);
    for (const fn of this.pointListeners) fn();
  }

  /** Called whenever a reset point is set (from the checkpoint list or the API). */
  onResetPoint(fn: () => void): void {
    this.pointListeners.push(fn);
  }

  private readonly pointListeners: Array<() => void> = [];

  /** Whether Reset has a state to return the running machine to, as far as the page knows. */
  hasResetPoint(): boolean {
    return this.goldenId !== undefined && this.goldenKey !== undefined && this.goldenKey === this.client.machineKey;
  }

  /** After the standby was switched on: prepare one now if a golden state is known. */
  refreshStandby(): void {
    if (this.config && this.goldenId && this.hasResetPoint()) this.standby.prepare(this.config, this.goldenId);
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
    const t0 = performance.now();
    const endedAt = Date.now();
    // The standby is the machine whose reset point it restored: never switch another machine to it.
    const spare = this.hasResetPoint() ? this.standby.take() : undefined;
    let replaced: EmulatorWorker | undefined;
    if (spare) {
      // An interval the page set (saves off, for one) goes on with the machine switched in.
      const setting = await this.client.remote.machine.autosaveSetting().catch(() => null);
      // Listen first, then resume: the spare's "running" event must reach the page.
      const old = this.client.adopt(spare);
      try {
        if (setting !== null) await spare.remote.machine.setAutosaveInterval(setting);
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
    if (this.config && this.goldenId && this.hasResetPoint()) this.standby.prepare(this.config, this.goldenId);
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
