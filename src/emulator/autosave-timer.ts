// When the running session is saved on its own (autosave checkpoints; a reload resumes the
// newest). The service decides whether a tick saves anything; this only keeps the rhythm.
import { Snap86Error } from "../protocol/errors";

export const DEFAULT_AUTOSAVE_SECONDS = 30;

export class AutosaveTimer {
  #timer: ReturnType<typeof setInterval> | undefined;
  #seconds = DEFAULT_AUTOSAVE_SECONDS;

  constructor(private readonly tick: () => void) {}

  /** Seconds between saves; 0 turns autosave off. Takes effect at the next start(). */
  set seconds(seconds: number) {
    if (!Number.isFinite(seconds) || seconds < 0) throw new Snap86Error("invalid-argument", "autosave interval must be a number of seconds >= 0");
    this.#seconds = seconds;
  }

  /** (Re)starts the rhythm from now. */
  start(): void {
    this.stop();
    if (this.#seconds > 0) this.#timer = setInterval(this.tick, this.#seconds * 1000);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
