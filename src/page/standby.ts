/**
 * The warm standby: a second emulator worker holding the golden state, restored and paused, so a
 * reset is a switch instead of a restore. Costs a second guest's RAM, so it is on by default only
 * where the device has room for it.
 */
import { spawnEmulatorWorker, type EmulatorWorker } from "./emulator-client";
import type { MachineConfig } from "../protocol/machine-config";
import type { DiscardOptions } from "../protocol";
import { Snap86Error } from "../protocol/errors";

export type StandbyStatus = "off" | "preparing" | "ready" | "failed";

/**
 * Default: on when two guests' worth of memory (machine + standby, each also holding the golden
 * image) stays under an eighth of the device's memory. navigator.deviceMemory is coarse (GiB,
 * capped at 8) and missing in some browsers: then off.
 */
export function standbyFits(guestMiB: number, deviceMemoryGiB: number | undefined): boolean {
  if (!deviceMemoryGiB) return false;
  return 4 * guestMiB <= (deviceMemoryGiB * 1024) / 8 || (deviceMemoryGiB >= 8 && guestMiB <= 256);
}

export class Standby {
  private ready: EmulatorWorker | undefined;
  private preparing: Promise<void> | undefined;
  /** The spare being prepared (its worker), for abandon(). */
  private spare: EmulatorWorker | undefined;
  status: StandbyStatus = "off";

  constructor(
    public enabled: boolean,
    private readonly onStatus: (status: StandbyStatus, error?: string) => void,
  ) {}

  /** Starts preparing a spare for `goldenId` unless one is ready or on its way; retries once. */
  prepare(config: MachineConfig, goldenId: string, attempt = 1): void {
    if (!this.enabled || this.ready || this.preparing) return;
    const spare = spawnEmulatorWorker("standby");
    this.spare = spare;
    this.setStatus("preparing");
    this.preparing = spare.remote.reset
      .prepareStandby(config, goldenId)
      .then(
        () => {
          if (!this.enabled) return dispose(spare).catch(reportDisposeFailure);
          this.ready = spare;
          this.setStatus("ready");
        },
        (e: Error) => {
          void dispose(spare).catch(reportDisposeFailure);
          if (attempt < 2) return "retry" as const;
          this.setStatus("failed", e.message);
        },
      )
      .then((outcome) => {
        this.preparing = undefined;
        this.spare = undefined;
        if (outcome === "retry") this.prepare(config, goldenId, attempt + 1);
      });
  }

  /** The prepared spare, if there is one now (never waits: a reset must not). */
  take(): EmulatorWorker | undefined {
    const spare = this.ready;
    this.ready = undefined;
    if (spare) this.setStatus(this.enabled ? "preparing" : "off");
    return spare;
  }

  /** Resolves once the current preparation (if any) is over. */
  async settled(): Promise<void> {
    await this.preparing;
  }

  async setEnabled(enabled: boolean): Promise<void> {
    this.enabled = enabled;
    if (!enabled) {
      const spare = this.take();
      if (spare) await dispose(spare).catch(reportDisposeFailure);
      this.setStatus("off");
    }
  }

  /**
   * The page is going away for good: the spare (ready or being prepared) ends now, without the
   * round trip dispose() makes, so it takes no CPU from the next page. Its fresh disk layer,
   * unlocked, is deleted by the next start (src/emulator/disk-session.ts, dropAbandonedStandbys).
   */
  abandon(): void {
    this.enabled = false;
    for (const spare of [this.ready, this.spare]) spare?.worker.terminate();
    this.ready = this.spare = undefined;
  }

  private setStatus(status: StandbyStatus, error?: string): void {
    this.status = status;
    this.onStatus(status, error);
  }
}

/**
 * A spare that was never used holds only its own fresh disk layer; what it could not delete is
 * swept at the next start. Said on the console: the page has no machine of its to speak for.
 */
export function reportDisposeFailure(e: unknown): void {
  console.warn("snap86: a standby machine's disk was not fully deleted:", e);
}

/**
 * A worker that stops answering (crashed, or hung inside the emulator) would hold a reset or a
 * standby switch-off forever: after this long it is terminated anyway. What it had not deleted
 * yet is swept at the next start. Generous: deleting a big session on a slow machine is slow.
 */
const DISPOSE_TIMEOUT_MS = 120_000;

/** Powers a machine off for good; `options.endedAt`: its session was reset (see discardSession). */
export async function dispose(machine: EmulatorWorker, options: DiscardOptions = {}): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const unanswered = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Snap86Error("timeout", `The replaced machine did not answer within ${DISPOSE_TIMEOUT_MS / 1000} s; it was stopped, and what it had not deleted goes at the next start`)),
      DISPOSE_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([machine.remote.reset.discardSession(options), unanswered]);
  } finally {
    clearTimeout(timer);
    machine.worker.terminate();
  }
}
