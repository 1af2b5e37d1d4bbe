/** The reset facet: golden checkpoint, session wipe, standby machines (see src/protocol/reset.ts). */
import type { CheckpointInfo, DiscardOptions, ResetFacet, ResetResult } from "../protocol";
import type { MachineConfig } from "../protocol/machine-config";
import { resetToGolden, type ResetCopy } from "./golden-reset";
import type { CheckpointSummary } from "../protocol/checkpoint-data";
import { discardBranches, prepareBranches, sessionsOf } from "./machine-disks";
import type { MachineOwner } from "./machine-owner";
import { Snap86Error } from "../protocol/errors";
import { checkpointMissing, CheckpointIncompatibleError } from "../checkpoint/errors";
import { GOLDEN_LABEL } from "./checkpoint-info";
import { newCheckpointId } from "./checkpoint-controller";
import { noResetPoint } from "./golden-checkpoints";

export class ResetFacetImpl implements ResetFacet {
  constructor(private readonly m: MachineOwner) {}

  /** Concurrent callers (the page after boot, a test fixture) share one capture. */
  ensureGolden(): Promise<CheckpointInfo> {
    return this.m.golden.ensure();
  }

  captureCleanBoot(): Promise<void> {
    return this.m.golden.captureCleanBoot();
  }

  setResetPoint(id: string): Promise<CheckpointInfo> {
    const m = this.m;
    return m.serialize(async () => {
      const key = m.machineKey();
      if (!key) throw new Snap86Error("machine-off", "A reset point is one of the running machine's checkpoints: boot the machine first");
      const controller = m.checkpoints();
      const list = await controller.list();
      const chosen = list.find((c) => c.id === id);
      if (!chosen) throw checkpointMissing(id);
      if (chosen.machineKey !== key) throw new CheckpointIncompatibleError("this checkpoint belongs to another machine: a reset point must be a checkpoint of the machine that runs");
      if (chosen.golden) return chosen;
      const pointId = newCheckpointId();
      await controller.catalog.copy(id, pointId, GOLDEN_LABEL);
      // One reset point per machine: the one it replaces goes (its chunks stay while others use them).
      for (const old of list.filter((c) => c.golden && c.machineKey === key)) {
        m.golden.forget(old.id);
        await controller.remove(old.id, m.writableDisks());
      }
      const point = (await controller.list()).find((c) => c.id === pointId);
      if (!point) throw new Snap86Error("internal", "the reset point was not stored");
      m.golden.forget(pointId);
      // The first reset should not wait for IndexedDB.
      void controller.goldenImage(point).catch(() => undefined);
      await controller.publishList();
      return point;
    });
  }

  /**
   * Back to the golden state in place. Resolves once the session is gone for good: the machine
   * runs the golden state (resetMs) after nothing is left that a reload could resume it from, and
   * its disk blocks and checkpoint chunks are deleted before this resolves (see session-wipe.ts).
   */
  async reset(): Promise<ResetResult> {
    const m = this.m;
    // Asked for while the clean state still arrives (a first visit's first seconds): wait for it
    // outside the machine's queue, instead of refusing. Any failure is the refusal's to explain.
    await m.golden.findOrAwait(() => m.checkpoints().lazy.settle()).catch(() => undefined);
    return m.serialize(async () => {
      const t0 = performance.now();
      const golden = await m.golden.find();
      if (!golden) throw noResetPoint(m.identity?.drives !== undefined);
      const controller = m.checkpoints();
      const image = await controller.goldenImage(golden);
      const machine = m.machine();
      // Pages a lazy restore would still load must not land on top of the golden RAM.
      await controller.endLazy(machine.emulator);
      const tracking = controller.tracking;
      // Everything that waits on IndexedDB happens while the session still runs: the golden
      // branch of each disk, opened, and the session's saves forgotten (a reload from here on
      // comes back to the golden state, as the reset will).
      const branches = await prepareBranches(machine, image);
      let kept: CheckpointSummary[];
      let copy: ResetCopy;
      let ta = 0;
      try {
        kept = await m.wipe.forgetSessionSaves(m.machineKey());
        ta = performance.now();
        // One step between ticks: switch the disks, put back device state and the pages written since.
        copy = await resetToGolden(machine, image, tracking?.pagesDifferingFrom(image.id, image.chunks, image.chunkSize) ?? null, {
          branches,
          onRestored: () => tracking?.resetTo(image.id, image.chunks, image.chunkSize),
        });
      } catch (e) {
        if (!branches.some((b) => b.session.layerId === b.overlay.layer.id)) discardBranches(branches);
        throw e;
      }
      const actionMs = performance.now() - ta;
      controller.lazy.ramReplaced();
      controller.current = golden.id;
      m.clock.zeroUptime();
      m.ramReplaced();
      const ranAt = performance.timeOrigin + performance.now();
      const disks = sessionsOf(machine);
      await m.wipe.dropSessionLayers(disks, kept);
      await m.wipe.finish(disks);
      return { resetMs: ranAt - performance.timeOrigin - t0, ranAt, pagesCopied: copy.pages, actionMs, restoreMs: copy.restoreMs };
    });
  }

  async prepareStandby(config: MachineConfig, goldenId: string): Promise<void> {
    const m = this.m;
    m.standby = true;
    m.autosave.stop();
    await m.boot(config, true);
    const golden = (await m.checkpoints().list()).find((c) => c.id === goldenId);
    if (!golden) throw new Snap86Error("checkpoint-missing", `golden checkpoint ${goldenId} is gone`);
    await m.serialize(async () => {
      const controller = m.checkpoints();
      const image = await controller.goldenImage(golden);
      await resetToGolden(m.machine(), image, null, { paused: true, onRestored: () => controller.tracking?.resetTo(image.id, image.chunks, image.chunkSize) });
      controller.current = golden.id;
    });
  }

  async discardSession(options: DiscardOptions = {}): Promise<void> {
    const m = this.m;
    m.autosave.stop();
    // After any checkpoint operation already queued (a session save is taken every second): one
    // that froze a disk layer after the discard began would leave it a child and undeletable.
    await m.serialize(async () => {
      // A checkpoint being written must finish first: its writer is a worker of this worker.
      await m.startedCheckpoints?.idle();
      const emulator = m.emulator;
      const disks = m.writableDisks();
      const key = m.machineKey();
      m.emulator = undefined;
      m.disk = undefined;
      m.userDrives = [];
      m.stopTimers();
      await emulator?.destroy();
      m.setState("off");
      if (disks.length === 0) return;
      // This worker is terminated right after: everything must be deleted before this resolves.
      const ended = options.endedAt !== undefined && !disks.some((d) => d.secure);
      for (const disk of disks) await disk.discard();
      if (ended) {
        await m.wipe.forgetSession(disks, key, options.endedAt);
        await m.wipe.finish(disks);
      }
    });
  }

  /** Resolves once the start cleanup and every deletion of session data started so far are over. */
  settleStorage(): Promise<void> {
    return this.m.wipe.settled(this.m.writableDisks());
  }
}
