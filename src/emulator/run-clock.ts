// How long the machine has run (uptime, across pauses) and how fast (MIPS from v86's
// instruction counter, sampled about once a second): the numbers of the status line.
import type { RunState, Stats } from "../protocol";
import { guestClockMs, type TscCpu } from "../v86/continuous-tsc";

export class RunClock {
  /** When the current running stretch began. */
  #since = 0;
  /** Milliseconds run before it. */
  #before = 0;
  #last = { at: 0, instructions: 0 };
  #mips = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The machine started (or resumed) running. */
  started(instructions: number): void {
    this.#since = this.now();
    this.#last = { at: this.#since, instructions };
  }

  /** The current stretch counts from now (a restore swapped the guest's state underneath). */
  restart(): void {
    this.#since = this.now();
  }

  stopped(): void {
    this.#before += this.now() - this.#since;
  }

  /** Uptime back to zero: a power cycle, or a reset to the clean booted state. */
  zeroUptime(): void {
    this.#before = 0;
  }

  /** Powered off: nothing runs, nothing to report. */
  off(): void {
    this.#before = 0;
    this.#mips = 0;
  }

  sample(instructions: number): void {
    const now = this.now();
    const elapsedMs = now - this.#last.at;
    // The counter is a u32 in v86 that wraps (>>> 0 keeps a wrapped difference right) and restarts
    // on reboot or restore (a "difference" past half the range): skip that sample.
    const delta = (instructions - this.#last.instructions) >>> 0;
    if (elapsedMs >= 250 && delta < 2 ** 31) this.#mips = Math.round(delta / (elapsedMs * 100)) / 10;
    this.#last = { at: now, instructions };
  }

  /** `cpu`: the machine's v86 CPU, whose own clock gives the uptime where it can (a restore starts this stopwatch anew). */
  stats(state: RunState, cpu?: TscCpu): Stats {
    const running = state === "running";
    if (cpu?.store_current_tsc && state !== "off" && state !== "loading") return { state, uptimeMs: guestClockMs(cpu), mips: running ? this.#mips : 0 };
    const uptimeMs = this.#before + (running ? this.now() - this.#since : 0);
    return { state, uptimeMs: Math.round(uptimeMs), mips: running ? this.#mips : 0 };
  }
}
