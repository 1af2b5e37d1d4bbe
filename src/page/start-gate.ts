/**
 * One machine start at a time in this tab. The page starts a machine by itself on load (resume,
 * boot, a share link); a script that calls `snap86.boot()` or `waitForShell()` meanwhile must
 * join that start, not begin a second one: two starts in one tab fight over the disk's lock and
 * the loser runs on a temporary disk with "open in another tab" while no other tab exists.
 */
import { Snap86Error } from "../protocol/errors";
import type { MachineConfig } from "../protocol/machine-config";

interface Start {
  readonly promise: Promise<void>;
  /** The machine it starts (a resume and a share link boot one too). */
  readonly config: MachineConfig;
}

/** The start gives the caller what it asked for: every setting the caller named has that value. */
const satisfies = (start: MachineConfig, asked: Partial<MachineConfig>): boolean =>
  (Object.keys(asked) as (keyof MachineConfig)[]).every((k) => asked[k] === undefined || JSON.stringify(start[k]) === JSON.stringify(asked[k]));

export class StartGate {
  #current: Start | undefined;

  /** The start in progress, if any (settled: never rejects, its caller reports its failure). */
  get pending(): Promise<void> | undefined {
    return this.#current?.promise.catch(() => undefined);
  }

  /** Runs a start; it is the one later calls join until it settles. */
  run(work: () => Promise<void>, config: MachineConfig): Promise<void> {
    const promise = work();
    const start: Start = { promise, config };
    this.#current = start;
    const clear = () => {
      if (this.#current === start) this.#current = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  /**
   * A boot asked for by the API: joins the start in progress when that start gives what the
   * caller asked for (`boot()` with no settings always does), refuses one that asks for another
   * machine; otherwise starts `{ ...defaults, ...asked }`.
   */
  boot(asked: Partial<MachineConfig>, work: (config: MachineConfig) => Promise<void>, defaults: MachineConfig): Promise<void> {
    const current = this.#current;
    if (current) {
      if (satisfies(current.config, asked)) return current.promise;
      return Promise.reject(
        new Snap86Error("busy", "The page is starting a machine with other settings: wait for it (snap86.waitForShell()), then boot again", {
          detail: { starting: JSON.stringify(current.config) },
        }),
      );
    }
    const config = { ...defaults, ...asked };
    return this.run(() => work(config), config);
  }
}
