/**
 * What a reset (in place or by standby switch), a disk wipe and a discarded machine delete, in an
 * order that survives a tab closed at any moment:
 *   1. before the golden state runs: the session's autosave manifests (a reload would resume them);
 *      then the metadata of every disk layer that only they used (a reset in place drops those
 *      after the golden state runs: they are layers no checkpoint names, which the next start's
 *      cleanup also finds);
 *   2. then, before the reset resolves: those layers' blocks and the checkpoint chunks nothing names.
 * Whatever step 2 did not finish is found by the next start's cleanup: blocks without a layer are
 * swept by the disk session, chunks without a manifest by the garbage collection started here.
 */
import type { CheckpointController } from "./checkpoint-controller";
import type { DiskSession } from "./disk-session";
import type { CheckpointSummary } from "../protocol/checkpoint-data";
import { AUTOSAVE_LABEL, machineKey as keyOf } from "./checkpoint-info";

export class SessionWipe {
  private startup: Promise<void> | undefined;

  constructor(private readonly checkpoints: () => CheckpointController) {}

  /**
   * Step 1: nothing left that a reload could resume the session from. The autosaves of the session
   * are this machine's own and those taken up to `before` (default now; a reloaded session began
   * with an autosave of an earlier page). One listing serves both steps, without sharing sizes:
   * it runs while the reset holds the guest paused, and sizes of large checkpoints (every chunk's
   * record read) cost a second there. A checkpoint another
   * machine finishes meanwhile is safe: its layer has that machine's session layer as a child.
   * Only autosaves of this machine (`machineKey`) are its session's: another machine's (the
   * built-in guest's, another image's) is that machine's session, resumed when it runs again.
   */
  async forgetSession(disks: readonly DiskSession[], machineKey: string | undefined, before = Date.now()): Promise<void> {
    await this.dropSessionLayers(disks, await this.forgetSessionSaves(machineKey, before));
  }

  /**
   * Step 1's first half: the session's autosave manifests, so a reload cannot resume it. A reset
   * in place does this before it stops the guest (the listing is the slow part) and drops the
   * layers after it switched the disks to the golden branch (dropSessionLayers). Returns the
   * checkpoints kept.
   */
  async forgetSessionSaves(machineKey: string | undefined, before = Date.now()): Promise<CheckpointSummary[]> {
    const controller = this.checkpoints();
    const own = controller.ownAutosaves;
    const list = await controller.catalog.summaries();
    const ours = (c: CheckpointSummary) => machineKey === undefined || keyOf(c.machine) === machineKey;
    const session = new Set(list.filter((c) => c.label === AUTOSAVE_LABEL && ours(c) && (c.created <= before || own.has(c.id))).map((c) => c.id));
    await controller.forget([...session]);
    return list.filter((c) => !session.has(c.id));
  }

  /**
   * Step 1's second half: the disk layers only the forgotten saves used. Layers the live disk
   * still reads through stay (dropUnreferencedLayers): so after a reset's switch to the golden
   * branch, the session's layers all go. A tab closed before this leaves them to the next start's
   * cleanup (layers no checkpoint names).
   */
  async dropSessionLayers(disks: readonly DiskSession[], kept: readonly CheckpointSummary[]): Promise<void> {
    const controller = this.checkpoints();
    for (const disk of disks) await disk.dropUnreferencedLayers(controller.referencedLayers(kept));
  }

  /** Step 2: resolves once the session's blocks and chunks are deleted; rejects with what was not. */
  async finish(disks: readonly DiskSession[]): Promise<void> {
    const controller = this.checkpoints();
    await controller.collectGarbage(disks);
    for (const disk of disks) await disk.whenWiped();
    await controller.publishList();
  }

  /**
   * Once per worker, after the machine first runs: finishes deletions a closed tab cut short
   * (layers no checkpoint names, chunks no manifest names). Never before a restore or share open
   * has attached its layer: until then that layer is named by nothing.
   */
  startCleanup(disks: readonly DiskSession[], report: (message: string) => void): void {
    if (this.startup || disks.length === 0 || disks.some((d) => d.secure)) return;
    this.startup = this.finish(disks).catch((e: unknown) => report(e instanceof Error ? e.message : String(e)));
  }

  /** Resolves once the start cleanup (if any) and every deletion the disk session started are over. */
  async settled(disks: readonly DiskSession[]): Promise<void> {
    await this.startup;
    for (const disk of disks) await disk.whenWiped();
  }
}
