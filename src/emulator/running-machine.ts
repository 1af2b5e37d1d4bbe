/**
 * The running machine as checkpoint operations see it (MachineOwner.machine()): the built-in
 * guest with its one layered disk, or a user's machine with each writable drive and its CD-ROM,
 * and why there is none to act on (off, a plain in-memory disk, a secure or temporary session).
 */
import type { V86Disk } from "../disk";
import type { MachineIdentity } from "../protocol/checkpoint-data";
import { Snap86Error } from "../protocol/errors";
import type { LazySupport } from "../v86/lazy-support";
import type { V86Instance, V86Options } from "../v86/types";
import type { MachineKind } from "../protocol";
import { machineKey } from "./checkpoint-info";
import type { Machine } from "./checkpoint-controller";
import type { DiskSession } from "./disk-session";
import type { WritableDrive } from "./user-drives";

/** What of MachineOwner this reads. */
export interface RunningParts {
  readonly emulator: V86Instance | undefined;
  readonly identity: MachineIdentity | undefined;
  readonly disk: DiskSession | undefined;
  readonly userDrives: readonly DiskSession[];
  readonly userDriveKinds: readonly WritableDrive[];
  readonly userReadOnly: readonly V86Disk[];
  readonly secureSession: boolean;
  readonly lazySupport: LazySupport;
  /** Set before the emulator starts (its "running" event comes before start() returns). */
  readonly options: V86Options | undefined;
}

export function writableDisksOf(o: RunningParts): DiskSession[] {
  return o.disk ? [o.disk] : [...o.userDrives];
}

export function checkpointsOffFor(o: RunningParts): Snap86Error | undefined {
  if (!o.emulator || !o.identity) return new Snap86Error("machine-off", "Checkpoints need a running machine: boot one first");
  if (!o.disk && !o.identity.drives) return new Snap86Error("unsupported", "Checkpoints need the built-in guest's layered disk (not the plain in-memory disk)");
  const temporary = writableDisksOf(o).find((d) => d.secure);
  if (!temporary && !o.secureSession) return undefined;
  return new Snap86Error(
    "unsupported",
    temporary?.lockedElsewhere
      ? "This tab runs on a temporary disk because the disk is open in another tab: checkpoints are off"
      : "Checkpoints are off in a secure session: nothing of it may reach storage",
  );
}

/** Throws the reason (with its code) when checkpoints cannot act on what runs. */
export function machineOf(o: RunningParts): Machine {
  const off = checkpointsOffFor(o);
  if (off) throw off;
  const disks = o.disk ? [{ kind: "hda" as const, session: o.disk }] : o.userDrives.map((session, i) => ({ kind: o.userDriveKinds[i], session }));
  return { emulator: o.emulator as unknown as Machine["emulator"], disks, readOnly: o.userReadOnly, identity: o.identity!, lazy: o.lazySupport };
}

/** What a state event says of the machine: the built-in guest or a user's, and its identity key. */
export function machineFieldsOf(o: RunningParts): { machine?: MachineKind; machineKey?: string } {
  if (!o.options) return {};
  return { machine: o.identity?.drives ? "own-image" : "built-in", ...(o.identity ? { machineKey: machineKey(o.identity) } : {}) };
}
