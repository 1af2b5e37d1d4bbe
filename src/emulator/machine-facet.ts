/** The machine facet: power, input, screen text, statistics (see src/protocol/machine.ts). */
import type { MachineFacet, Stats } from "../protocol";
import { validateMachineConfig, type MachineConfig } from "../protocol/machine-config";
import { cpuMode, ramView, type EngineEmulator } from "../v86/state";
import { kernelOptions } from "./machine-options";
import type { MachineOwner } from "./machine-owner";
import { Snap86Error } from "../protocol/errors";

export class MachineFacetImpl implements MachineFacet {
  constructor(private readonly m: MachineOwner) {}

  boot(config: MachineConfig): Promise<void> {
    return this.m.boot(config);
  }

  async pause(): Promise<void> {
    const m = this.m;
    if (!m.emulator || m.runState !== "running") return;
    await m.emulator.stop();
  }

  async resume(): Promise<void> {
    const m = this.m;
    if (!m.emulator || m.runState !== "paused") return;
    const disks = m.writableDisks();
    const switchedIn = m.standby && m.checkpointsOff() === undefined;
    // A standby switched in on reset: no autosave of the session it replaces may be resumed by a
    // reload from now on, even if the tab closes before the replaced machine has deleted them.
    if (switchedIn) await m.wipe.forgetSession(disks, m.machineKey());
    await m.emulator.run();
    if (m.standby) {
      // From now on it is the user's machine.
      m.standby = false;
      m.scheduleAutosave();
      for (const d of disks) void d.promoteToSession().catch((e: Error) => m.notice("warning", `This machine's disk may not be resumed after a reload: ${e.message}`));
    }
  }

  /**
   * A power cycle with the same files and disk. v86's own restart() only resets the CPU and
   * BIOS: a kernel it loaded directly (bzImage) is gone from memory and the guest crashes.
   */
  async reboot(): Promise<void> {
    const m = this.m;
    const emulator = m.emulator;
    let options = m.options;
    if (!emulator || !options) throw new Snap86Error("machine-off", "The machine is off: boot it first");
    m.cleanBoot = m.wiped || (!!m.disk && m.disk.isEmptyOnBase());
    m.wiped = false;
    // A machine restored from a checkpoint was started without its kernel: a cold boot needs it.
    if (!options.bzimage && m.kernel) options = m.options = { ...options, ...kernelOptions(await m.kernel()), autostart: true };
    m.emulator = undefined;
    await emulator.stop();
    await m.disk?.disk.whenIdle();
    m.stopTimers();
    await emulator.destroy();
    m.serial.flush();
    m.automation.flush();
    m.clock.zeroUptime();
    // A cold boot starts the guest's own automation shell, whatever a restored state lacked.
    m.automationChannel = m.guestAutomation;
    m.setState("loading");
    m.emulator = await m.start(options);
  }

  powerOff(): Promise<void> {
    return this.m.powerOff();
  }

  /**
   * A browser ends a page's dedicated workers some time after the page: on a reload, the old
   * guest was seen taking a core for 100-700 ms of the next page's start (two cores here).
   * Stopped now; a session save or disk write under way still completes. A lazy restore's
   * prefetch is left alone: dropping it would leave RAM with holes that a capture could store.
   */
  async leaving(): Promise<void> {
    const m = this.m;
    m.autosave.stop();
    await m.emulator?.stop();
  }

  serialInput(data: string): void {
    this.m.emulator?.serial0_send(data);
  }

  automationChannel(): boolean {
    return this.m.automationChannel && !!this.m.emulator;
  }

  automationInput(data: string): void {
    this.m.emulator?.serial_send_bytes(1, new TextEncoder().encode(data));
  }

  keyboardInput(scancodes: number[]): void {
    void this.m.emulator?.keyboard_send_scancodes(scancodes);
  }

  screenText(): string[] {
    return this.m.screenText();
  }

  stats(): Stats {
    return this.m.stats();
  }

  prefetchBoot(config: MachineConfig): void {
    try {
      this.m.bootInputs.prefetch(validateMachineConfig(config));
    } catch {
      // A config the boot will refuse: the boot says why, a prefetch has nothing to fetch.
    }
  }

  setAutosaveInterval(seconds: number): void {
    this.m.autosave.seconds = seconds;
    this.m.scheduleAutosave();
  }

  autosaveSetting(): number | null {
    return this.m.autosave.setting;
  }

  ramContains(text: string): Promise<boolean> {
    const emulator = this.m.emulator;
    if (!emulator) throw new Snap86Error("machine-off", "The machine is off");
    const needle = new TextEncoder().encode(text);
    const ram = ramView(emulator as unknown as EngineEmulator);
    // indexOf on the first byte, then compare: fast enough for 128 MiB in a test.
    for (let i = ram.indexOf(needle[0]); i >= 0 && i <= ram.length - needle.length; i = ram.indexOf(needle[0], i + 1)) {
      let j = 1;
      while (j < needle.length && ram[i + j] === needle[j]) j++;
      if (j === needle.length) return Promise.resolve(true);
    }
    return Promise.resolve(false);
  }

  cpuMode(): Promise<{ paging: boolean; pae: boolean }> {
    const emulator = this.m.emulator;
    if (!emulator) throw new Snap86Error("machine-off", "The machine is off");
    return Promise.resolve(cpuMode(emulator as unknown as EngineEmulator));
  }

  measureV86State(): Promise<{ saveMs: number; restoreMs: number; bytes: number }> {
    const m = this.m;
    return m.serialize(async () => {
      const emulator = m.emulator;
      if (!emulator) throw new Snap86Error("machine-off", "The machine is off");
      await emulator.stop();
      await m.disk?.disk.whenIdle();
      const t0 = performance.now();
      const state = await emulator.save_state();
      const t1 = performance.now();
      await emulator.restore_state(state);
      const t2 = performance.now();
      await emulator.run();
      return { saveMs: t1 - t0, restoreMs: t2 - t1, bytes: state.byteLength };
    });
  }
}
