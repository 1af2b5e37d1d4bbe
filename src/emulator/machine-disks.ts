/**
 * The disks of the running machine as checkpoints, restores and resets see them: every writable
 * drive (the built-in guest's one hard disk, or each floppy and hard disk of a user's machine)
 * with its copy-on-write session, and the read-only CD-ROMs, which a checkpoint names only through
 * the machine's identity (their image id) but whose reads in flight must end before device state
 * is saved or restored (IDE set_state does not cancel them).
 */
import type { V86Disk } from "../disk";
import { holdPendingLock } from "../disk/storage";
import type { CheckpointManifest, DriveLayer } from "../protocol/checkpoint-data";
import type { DiskSession, PreparedBranch } from "./disk-session";
import type { WritableDrive } from "./user-drives";

export interface DriveDisk {
  kind: WritableDrive;
  session: DiskSession;
}

export interface MachineDisks {
  /** Every writable drive, in boot order; empty for a machine of CD-ROMs only. */
  disks: readonly DriveDisk[];
  /** CD-ROMs: nothing to freeze, only reads to wait for. */
  readOnly?: readonly V86Disk[];
}

/** Resolves once no drive has a read or write in flight (call with the machine stopped). */
export async function whenDisksIdle(m: MachineDisks): Promise<void> {
  await Promise.all([...m.disks.map((d) => d.session.disk.whenIdle()), ...(m.readOnly ?? []).map((d) => d.whenIdle())]);
}

/**
 * Whether no drive has a read in flight right now. The worker's code runs between v86's ticks, so
 * the CPU is already at an instruction boundary and runs nothing until the current task ends: with
 * no read in flight a capture or reset can fix its instant at once, without stop() (which waits for
 * the next tick, up to a timer period with an idle guest) and run().
 */
export function disksIdleNow(m: MachineDisks): boolean {
  return m.disks.every((d) => d.session.disk.inFlightReads === 0) && (m.readOnly ?? []).every((d) => d.inFlightReads === 0);
}

/** Queues the writable drives' requests while their layers switch; returns the release. */
export function holdDisks(m: MachineDisks): () => void {
  const releases = m.disks.map((d) => d.session.disk.hold());
  return () => releases.forEach((release) => release());
}

/**
 * The layers about to be frozen are named by no manifest until the capture is written: garbage
 * collection anywhere (another worker's, another tab's) must leave them alone until released.
 */
export async function holdLayers(m: MachineDisks): Promise<{ release(): void }> {
  const locks = await Promise.all(m.disks.map((d) => holdPendingLock(d.session.layerId)));
  return { release: () => locks.forEach((l) => l.release()) };
}

export async function flushDisks(m: MachineDisks): Promise<void> {
  for (const d of m.disks) await d.session.flush();
}

/**
 * The disk half of a checkpoint: each writable drive's layer frozen, the guest writing on to a
 * fresh child. `diskLayerId` is the first drive's layer (null without one); `driveLayers` lists
 * every drive's, only for a user's machine (`perDrive`), whose manifests are format v2.
 */
export async function freezeDisks(m: MachineDisks, perDrive: boolean): Promise<Pick<CheckpointManifest, "diskLayerId" | "driveLayers">> {
  const layers: DriveLayer[] = [];
  for (const d of m.disks) layers.push({ kind: d.kind, diskLayerId: await d.session.freezeAndContinue() });
  return { diskLayerId: layers[0]?.diskLayerId ?? null, ...(perDrive && layers.length > 0 ? { driveLayers: layers } : {}) };
}

/** Restore or reset: each writable drive continues on a fresh child of the checkpoint's layer. */
export async function branchDisks(m: MachineDisks, at: Pick<CheckpointManifest, "diskLayerId" | "driveLayers">): Promise<void> {
  for (const { disk, layerId } of branchPoints(m, at)) await disk.session.branchFrom(layerId);
}

/**
 * The IndexedDB half of branchDisks, while the guest runs (a reset switches with no transaction
 * while it is stopped): each drive's fresh child, opened. Switch with switchBranches.
 */
export async function prepareBranches(m: MachineDisks, at: Pick<CheckpointManifest, "diskLayerId" | "driveLayers">): Promise<PreparedBranch[]> {
  const prepared: PreparedBranch[] = [];
  try {
    for (const { disk, layerId } of branchPoints(m, at)) prepared.push(await disk.session.prepareBranch(layerId));
  } catch (e) {
    discardBranches(prepared);
    throw e;
  }
  return prepared;
}

/** Machine stopped and its disks idle (whenDisksIdle): synchronous, so nothing waits on IndexedDB. */
export function switchBranches(branches: readonly PreparedBranch[]): void {
  for (const b of branches) b.session.switchTo(b);
}

export function discardBranches(branches: readonly PreparedBranch[]): void {
  for (const b of branches) b.session.discardBranch(b);
}

function branchPoints(m: MachineDisks, at: Pick<CheckpointManifest, "diskLayerId" | "driveLayers">): { disk: DriveDisk; layerId: string }[] {
  if (at.driveLayers) {
    return at.driveLayers.flatMap((layer) => {
      const disk = m.disks.find((d) => d.kind === layer.kind);
      return disk ? [{ disk, layerId: layer.diskLayerId }] : [];
    });
  }
  return at.diskLayerId && m.disks[0] ? [{ disk: m.disks[0], layerId: at.diskLayerId }] : [];
}

/** The sessions alone (garbage collection and wipes go over each). */
export function sessionsOf(m: MachineDisks): DiskSession[] {
  return m.disks.map((d) => d.session);
}
