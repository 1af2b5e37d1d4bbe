/**
 * Session-wipe fast reboot: instead of booting (~20 s), the machine returns to its golden
 * checkpoint — the clean state of its image and machine config right after the first boot
 * reached the shell. The session's disk overlay is dropped and RAM is overwritten with the golden
 * image kept decompressed in memory, so nothing of the session survives in RAM or storage.
 */
import { ramSize, restoreDeviceState, type EngineEmulator } from "../v86/state";
import { reseedGuestRandom } from "../v86/guest-rng";
import type { DiskSession } from "./disk-session";

export interface GoldenImage {
  id: string;
  diskLayerId: string;
  deviceState: ArrayBuffer;
  /** Full RAM image, zeros included. */
  ram: Uint8Array;
  /** Content hash per RAM chunk (the manifest's), so lazy restores can reuse identical chunks. */
  chunks: readonly (string | null)[];
  chunkSize: number;
}

export interface ResettableMachine {
  emulator: EngineEmulator & { stop(): Promise<void>; run(): Promise<void> };
  disk: DiskSession;
}

/** Stops, drops the session disk, restores the golden image, and (unless `paused`) resumes. */
export async function resetToGolden(machine: ResettableMachine, golden: GoldenImage, paused = false): Promise<void> {
  const { emulator, disk } = machine;
  await emulator.stop();
  await disk.disk.whenIdle();
  await disk.branchFrom(golden.diskLayerId);
  // v86 may keep views into the state it restores from: give it a copy, keep the golden intact.
  restoreDeviceState(emulator, golden.deviceState.slice(0), (ram) => ram.set(golden.ram), golden.ram.byteLength === ramSize(emulator));
  // Every reset is a clone of the golden state: it must not repeat the last one's random bytes.
  reseedGuestRandom(emulator.v86.cpu);
  if (!paused) await emulator.run();
}
