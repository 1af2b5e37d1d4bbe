// When the running session is saved on its own (autosave checkpoints; a reload resumes the
// newest). The service decides whether a tick saves anything; this only keeps the rhythm.
import { Snap86Error } from "../protocol/errors";

/**
 * Continuous session save: where a capture costs only what changed (memory tracking, see
 * src/emulator/session-saves.ts), the session is saved every second, so a reload or a crashed tab
 * loses about a second of guest time at most.
 */
export const CONTINUOUS_SAVE_SECONDS = 1;
/** Without memory tracking a capture copies and hashes all of RAM: every 30 s then. */
export const PERIODIC_SAVE_SECONDS = 30;
/** A save's duration times this is the least time from its start to the next one's: saves get at most a fifth of the time. */
const SAVE_SHARE = 5;

export class AutosaveTimer {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #seconds: number | undefined;
  /** Bumped by stop(): a save that ends after it schedules nothing. */
  #generation = 0;
  /** How long the save before the last one took (0 before the second save). */
  #previousMs = 0;
  /** The failure said last: the same one again every second would bury everything else. */
  #failure: string | undefined;

  constructor(
    private readonly o: {
      save: () => Promise<unknown>;
      /** The interval when none was set. */
      automaticSeconds: () => number;
      /** A save failed (said once until a save succeeds or another failure comes). */
      failed: (message: string) => void;
    },
  ) {}

  /** Seconds between the starts of two saves; 0 turns autosave off. Takes effect at the next start(). */
  set seconds(seconds: number) {
    if (!Number.isFinite(seconds) || seconds < 0) throw new Snap86Error("invalid-argument", "autosave interval must be a number of seconds >= 0");
    this.#seconds = seconds;
  }

  get seconds(): number {
    return this.#seconds ?? this.o.automaticSeconds();
  }

  /** The interval set, or null while the automatic one applies. */
  get setting(): number | null {
    return this.#seconds ?? null;
  }

  /** (Re)starts the rhythm from now. */
  start(): void {
    this.stop();
    this.#schedule(this.#generation, 0);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#generation++;
  }

  /**
   * Never two saves at once: the next starts one interval after this one started, and not before
   * the guest had SAVE_SHARE times as long as the save took to itself: a guest that rewrites much
   * of its RAM every second (a cold boot, a big write) makes saves slow, and they must not eat the
   * cores it needs. Such a stretch is saved less often (a reload then loses a few seconds more).
   */
  #schedule(generation: number, elapsedMs: number, costMs = elapsedMs): void {
    const seconds = this.seconds;
    if (seconds <= 0) return;
    this.#timer = setTimeout(() => void this.#tick(generation), Math.max(0, seconds * 1000 - elapsedMs, costMs * (SAVE_SHARE - 1)));
  }

  async #tick(generation: number): Promise<void> {
    const t0 = performance.now();
    try {
      await this.o.save();
      this.#failure = undefined;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (message !== this.#failure) this.o.failed(message);
      this.#failure = message;
    }
    if (generation !== this.#generation) return;
    const elapsedMs = performance.now() - t0;
    // The shorter of the last two: one slow save (the first after a restore or a first visit
    // stores what the session had not stored yet, ~1 s) must not hold the next back ~4 s, while a
    // guest that keeps rewriting its RAM makes every save slow and still gets the back-off.
    const costMs = Math.min(elapsedMs, this.#previousMs);
    this.#previousMs = elapsedMs;
    this.#schedule(generation, elapsedMs, costMs);
  }
}
