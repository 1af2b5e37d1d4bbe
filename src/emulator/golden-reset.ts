/**
 * Session-wipe fast reboot: instead of booting (~20 s), the machine returns to its golden
 * checkpoint — the clean state of its image and machine config right after the first boot
 * reached the shell. The session's disk overlay is dropped and RAM is put back from the golden
 * image kept in memory: only the pages written since the golden state when dirty-page tracking
 * knows them (src/emulator/memory-tracking.ts), all of RAM otherwise. Nothing of the session
 * survives in RAM or storage.
 */
import { ramSize, restoreDeviceState, type EngineEmulator } from "../v86/state";
import { reseedGuestRandom } from "../v86/guest-rng";
import type { PageSet } from "../v86/page-set";
import { branchDisks, disksIdleNow, switchBranches, whenDisksIdle, type MachineDisks } from "./machine-disks";
import type { PreparedBranch } from "./disk-session";
import type { DriveLayer } from "../protocol/checkpoint-data";
import type { SparseRam } from "./sparse-ram";

export interface GoldenImage {
  id: string;
  /** Its disk: the first writable drive's layer (null: CD-ROMs only) and, for a user's machine, each drive's. */
  diskLayerId: string | null;
  driveLayers?: DriveLayer[];
  deviceState: ArrayBuffer;
  /** RAM at the golden instant, non-zero chunks only. */
  ram: SparseRam;
  /** Content hash per RAM chunk (the manifest's), so lazy restores can reuse identical chunks. */
  chunks: readonly (string | null)[];
  chunkSize: number;
}

export interface ResettableMachine extends MachineDisks {
  emulator: EngineEmulator & { stop(): Promise<void>; run(): Promise<void>; is_running(): boolean };
}

export interface ResetCopy {
  /** Pages copied back (all of RAM on the full path). */
  pages: number;
  full: boolean;
  /** The part that grows with what was written: device state and RAM pages back, CRNG reseed. */
  restoreMs: number;
}

export interface ResetOptions {
  /**
   * Each drive's fresh child of the golden layer, prepared while the guest still ran
   * (prepareBranches): the switch then costs no IndexedDB wait with the guest stopped. Without
   * it the branch is made while stopped.
   */
  branches?: readonly PreparedBranch[];
  /** Leave the machine stopped afterwards (a standby waits for its turn). */
  paused?: boolean;
  /** RAM is the golden state's now, before anything writes to it (dirty tracking restarts here). */
  onRestored?: () => void;
}

/**
 * Drops the session disk and restores the golden image, between ticks (stopping the CPU only for
 * a disk read in flight or when it is to stay `paused`); the machine runs on unless `paused`.
 * `written`: the pages written since the golden state, or null to copy all of RAM.
 */
export async function resetToGolden(machine: ResettableMachine, golden: GoldenImage, written: PageSet | null, options: ResetOptions = {}): Promise<ResetCopy> {
  const { emulator } = machine;
  // Between ticks with no disk read in flight the reset happens within this task (disksIdleNow);
  // a standby stays stopped, so it stops in any case.
  const stop = options.paused === true || !disksIdleNow(machine);
  if (stop) {
    await emulator.stop();
    await whenDisksIdle(machine);
  }
  if (options.branches) switchBranches(options.branches);
  else await branchDisks(machine, golden);
  const full = written === null || golden.ram.length !== ramSize(emulator);
  let pages = 0;
  const t0 = performance.now();
  // v86 0.5.462 reads an uncompressed state without writing to it and copies out every buffer
  // it keeps (restore_state slices them), so the golden state is handed over as it is: a copy
  // here would be ~760 KB more garbage per reset.
  restoreDeviceState(
    emulator,
    golden.deviceState,
    (ram) => {
      if (full) {
        golden.ram.copyAll(ram);
        pages = ram.byteLength >>> 12;
        return;
      }
      golden.ram.copyPages(ram, written);
      pages = written.size;
    },
    true,
  );
  options.onRestored?.();
  // Every reset is a clone of the golden state: it must not repeat the last one's random bytes.
  reseedGuestRandom(emulator.v86.cpu);
  const restoreMs = performance.now() - t0;
  if (!options.paused && !emulator.is_running()) await emulator.run();
  return { pages, full, restoreMs };
}
