/**
 * What the page does for a user's own machine beyond booting it: its Reset button follows its
 * reset point (enabled once one is set, else disabled with how to get one), and a reload resumes
 * its newest autosave (the worker finds it: which autosave is this machine's is known only once
 * its drives are open).
 */
import type { MachineConfig } from "../protocol/machine-config";
import type { EmulatorClient } from "./emulator-client";
import { rememberMachine } from "./last-machine";
import { NO_RESET_POINT, type ResetController } from "./reset-controller";
import { errorMessage } from "./ui/checkpoint-format";
import { disableWithReason, enableAgain } from "./ui/dom";

export interface OwnMachineHost {
  client: EmulatorClient;
  resets: ResetController;
  resetButton: HTMLButtonElement;
  notice(message: string | undefined): void;
  error(message: string | undefined): void;
  /** The page's usual boot (a cold boot of `config`). */
  boot(config: MachineConfig): Promise<void>;
  /** Whether a reload may resume an autosave (not with ?resume=0). */
  resume: boolean;
}

export class OwnMachine {
  constructor(private readonly host: OwnMachineHost) {}

  /** After a user's machine started: Reset works once a reset point exists (one may from before). */
  async findResetPoint(config: MachineConfig): Promise<void> {
    const { client, resets } = this.host;
    const point = await client.remote.reset.ensureGolden().catch(() => undefined);
    if (point) resets.goldenReady(config, point.id);
    this.showResetAvailability();
  }

  /** Reset is offered when the running machine has a state to return to; else it says how to get one. */
  showResetAvailability(): void {
    const { client, resets, resetButton: button } = this.host;
    if (client.machine !== "own-image") {
      // Back on the built-in guest: its clean state enables Reset once known.
      if (button.dataset.reason === NO_RESET_POINT) {
        enableAgain(button);
        button.disabled = !resets.hasResetPoint();
      }
      return;
    }
    if (resets.hasResetPoint()) enableAgain(button);
    else disableWithReason(button, NO_RESET_POINT);
  }

  /** A user's machine runs (resumed, or opened from a share link): Reset, autosave and a reload follow it. */
  started(config: MachineConfig): void {
    this.host.resets.machineStarted(config);
    rememberMachine(config);
    void this.findResetPoint(config);
  }

  /** A user's machine after a reload: its newest autosave, or a boot on its kept disk writes. */
  async resume(config: MachineConfig): Promise<void> {
    const { client } = this.host;
    this.host.error(undefined);
    try {
      if (config.disk !== "persistent" || !this.host.resume) return await this.host.boot(config);
      // bootResume boots either way: from the newest autosave, or (null) from the firmware when
      // there is none yet. The page may not have heard "running" by now: asking its state here
      // made a second boot over the first one, with that boot's notice instead of this one.
      const resumed = await client.remote.checkpoints.bootResume(config);
      this.started(config);
      this.host.notice(resumed ? "Resumed your machine as it was at its last autosave." : "Your image booted again after the reload, with its disk writes (it had no autosave yet).");
    } catch (e) {
      this.host.error(`Could not resume your machine (${errorMessage(e)}); booting it fresh.`);
      await this.host.boot(config);
    }
  }
}
