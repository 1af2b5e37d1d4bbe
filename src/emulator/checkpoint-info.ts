/** How the emulator worker names and lists checkpoints: the special labels and the list entry. */
import type { CheckpointInfo } from "../protocol";
import { machineKey, type CheckpointSummary, type SharingSizes } from "../protocol/checkpoint-data";

export const AUTOSAVE_LABEL = "autosave";
/** The clean booted checkpoint of an image + machine config (see src/emulator/golden-checkpoints.ts). */
export const GOLDEN_LABEL = "golden";

/** One name per machine; defined beside the identity it names, which the checkpoint-I/O worker reads too. */
export { machineKey };

/** Under this key the loader keeps what the last resume of a machine touched first (src/lazy/ram-loader.ts). */
export function resumeKey(machineKeyOfSave: string): string {
  return `resume:${machineKeyOfSave}`;
}

/** A catalog entry as lists show it: its record and sharing sizes, and what this worker knows of it. */
export function checkpointInfo(c: CheckpointSummary & SharingSizes, current: string | null): CheckpointInfo {
  const { sizes, machine, ...record } = c;
  return {
    ...record,
    ramBytes: sizes.ramBytes,
    storedBytes: sizes.storedBytes,
    autosave: c.label === AUTOSAVE_LABEL,
    golden: c.label === GOLDEN_LABEL,
    machineKey: machineKey(machine),
    current: c.id === current,
  };
}

export function newCheckpointId(): string {
  return `cp-${Date.now().toString(36)}-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`;
}
