/** The share facet: publish and open encrypted share links (see src/protocol/share.ts). */
import type { CheckpointsFacet, ShareFacet, ShareOpenResult, ShareOptions, ShareResult } from "../protocol";
import type { PreparedShare } from "../protocol/checkpoint-io";
import type { MachineConfig } from "../protocol/machine-config";
import type { MachineOwner } from "./machine-owner";
import { throwIfAborted } from "../protocol/errors";

export class ShareFacetImpl implements ShareFacet {
  constructor(
    private readonly m: MachineOwner,
    private readonly checkpoints: Pick<CheckpointsFacet, "restore">,
  ) {}

  /** A user's machine's checkpoint carries its images too (uploaded, or by URL: `options.imageBy`). */
  publish(id: string, appUrl: string, signal?: AbortSignal, options?: ShareOptions): Promise<ShareResult> {
    return this.m.checkpoints().share(id, appUrl, signal, options);
  }

  /**
   * Opens a share link. With lazy restore available, only the device state and the disk layer
   * are fetched first; the guest then runs while its RAM arrives on first touch and by prefetch
   * (the checkpoint is listed once all of it is stored). Otherwise the whole checkpoint is
   * downloaded and restored eagerly. A bad link, or a cancel while the first objects download,
   * leaves a running machine untouched.
   */
  async open(link: string, asked: MachineConfig, signal?: AbortSignal, store?: string): Promise<ShareOpenResult> {
    const m = this.m;
    const t0 = performance.now();
    const controller = m.checkpoints();
    // With no machine to lose, the (kernel-less) machine starts while the first objects download.
    let booting = m.emulator ? undefined : m.boot(asked, true);
    booting?.catch(() => undefined);
    let prepared: PreparedShare;
    try {
      prepared = await controller.prepareShare(link, signal, store);
      // The last moment to cancel with the running machine kept: afterBoot replaces it.
      throwIfAborted(signal);
    } catch (e) {
      if (booting) throw await m.failBoot(e);
      throw e;
    }
    const ready = prepared;
    // The loader opens the share now, so the pack streams while the machine finishes booting
    // and the device state is applied (a first visit's shell waits for those pages).
    if (ready.kind === "lazy" && m.lazySupport.available) controller.lazy.warm(ready.opened);
    // A user's machine (its images now kept here) runs on its own drives and memory, not on the
    // built-in guest started meanwhile on the chance that the link was one of it.
    const own = ready.machine;
    const config: MachineConfig = own ? { memoryMiB: own.memoryMiB, vgaMemoryMiB: own.vgaMemoryMiB, drives: own.drives, ...(asked.disk === "secure" ? { disk: "secure" } : {}) } : asked;
    if (own && booting) {
      await booting.catch(() => undefined);
      booting = undefined;
    }
    const result = await m.afterBoot(
      booting,
      config,
      async () => {
        if (ready.kind === "local") return this.checkpoints.restore(ready.id);
        const support = m.lazySupport;
        if (!support.available) {
          // No lazy restore here: download the rest of the checkpoint, then restore it eagerly.
          return this.checkpoints.restore(await controller.openShare(link, signal, store), { mode: "eager" });
        }
        return m.serialize(async () => {
          m.cleanBoot = false;
          await controller.restoreShared(m.machine(), ready, await support.wasm.handle());
          m.ramReplaced();
          return { id: ready.manifest.id, mode: "lazy" as const, restoreMs: 0 };
        });
      },
      t0,
    );
    return own ? { ...result, config } : result;
  }
}
