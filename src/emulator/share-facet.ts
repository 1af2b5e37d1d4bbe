/** The share facet: publish and open encrypted share links (see src/protocol/share.ts). */
import type { CheckpointsFacet, RestoreResult, ShareFacet, ShareResult } from "../protocol";
import type { PreparedShare } from "../protocol/checkpoint-io";
import type { MachineConfig } from "../protocol/machine-config";
import type { MachineOwner } from "./machine-owner";
import { Snap86Error, throwIfAborted } from "../protocol/errors";
import { isOwnMachine } from "../protocol/checkpoint-data";

export class ShareFacetImpl implements ShareFacet {
  constructor(
    private readonly m: MachineOwner,
    private readonly checkpoints: Pick<CheckpointsFacet, "restore">,
  ) {}

  async publish(id: string, appUrl: string, signal?: AbortSignal): Promise<ShareResult> {
    const controller = this.m.checkpoints();
    // The opener would need the user's image too: its blocks in the link are not built yet.
    const shared = (await controller.list()).find((c) => c.id === id);
    if (shared && isOwnMachine(shared.machineKey)) {
      throw new Snap86Error("unsupported", "Share links work for the built-in guest only, for now: the opener would need your image's blocks. Export the checkpoint as a .snap86 file instead");
    }
    return controller.share(id, appUrl, signal);
  }

  /**
   * Opens a share link. With lazy restore available, only the device state and the disk layer
   * are fetched first; the guest then runs while its RAM arrives on first touch and by prefetch
   * (the checkpoint is listed once all of it is stored). Otherwise the whole checkpoint is
   * downloaded and restored eagerly. A bad link, or a cancel while the first objects download,
   * leaves a running machine untouched.
   */
  async open(link: string, config: MachineConfig, signal?: AbortSignal, store?: string): Promise<RestoreResult> {
    const m = this.m;
    const t0 = performance.now();
    const controller = m.checkpoints();
    // With no machine to lose, the (kernel-less) machine starts while the first objects download.
    const booting = m.emulator ? undefined : m.boot(config, true);
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
    return m.afterBoot(
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
  }
}
