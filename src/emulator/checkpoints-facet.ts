/** The checkpoints facet: take, restore and keep stored checkpoints (see src/protocol/checkpoints.ts). */
import type {
  CheckpointCatalog,
  CheckpointInfo,
  CheckpointOptions,
  CheckpointResult,
  CheckpointsFacet,
  LazyStatus,
  RestoreOptions,
  RestoreResult,
  ResumedSession,
  ResumeSessionOptions,
} from "../protocol";
import { userDrives, type MachineConfig } from "../protocol/machine-config";
import type { MachineOwner } from "./machine-owner";
import { Snap86Error, throwIfAborted } from "../protocol/errors";
import { BUILT_IN_MACHINES, type NewestCheckpoint } from "../protocol/checkpoint-io";
import { AUTOSAVE_LABEL, resumeKey } from "./checkpoint-info";

type MachineOps = Omit<CheckpointsFacet, keyof CheckpointCatalog>;

class CheckpointsFacetImpl implements MachineOps {
  constructor(private readonly m: MachineOwner) {}

  take(options?: CheckpointOptions): Promise<CheckpointResult> {
    const m = this.m;
    return m.serialize(async () => {
      return m.checkpoints().take(m.machine(), options);
    });
  }

  restore(id: string, options?: RestoreOptions, signal?: AbortSignal): Promise<RestoreResult> {
    const m = this.m;
    return m.serialize(async () => {
      throwIfAborted(signal);
      const t0 = performance.now();
      m.cleanBoot = false;
      const outcome = await m.checkpoints().restore(m.machine(), id, options, signal);
      m.ramReplaced();
      return { id, ...outcome, restoreMs: Math.round(performance.now() - t0) };
    });
  }

  async bootFrom(config: MachineConfig, id: string, options?: RestoreOptions): Promise<RestoreResult> {
    const t0 = performance.now();
    await this.m.boot(config, true);
    try {
      const result = await this.restore(id, options);
      this.m.cleanUpAfterStart();
      return { ...result, restoreMs: Math.round(performance.now() - t0) };
    } catch (e) {
      // The machine never ran and has no kernel: off, with the reason, rather than a dead machine.
      throw await this.m.failBoot(e);
    }
  }

  async resumeSession(config: MachineConfig, options: ResumeSessionOptions & RestoreOptions = {}): Promise<ResumedSession | null> {
    const m = this.m;
    const t0 = performance.now();
    if (userDrives(config).length > 0) throw new Snap86Error("invalid-argument", "resumeSession is for the built-in guest: a user's own machine resumes with bootResume");
    // A user's machine's autosave is that machine's session, not the built-in guest's.
    const search = this.newestSessionSave(BUILT_IN_MACHINES).catch(() => undefined);
    // Building the machine (v86, its wasm, the disk) takes as long as the search: side by side
    // when a session is likely, so a reload waits for the longer of the two, not both.
    const building = options.expectSave ? m.boot(config, true) : undefined;
    const saved = await search;
    // Lazy restore needs shared memory: without it the restore is eager and reads everything anyway.
    if (saved && typeof SharedArrayBuffer !== "undefined") m.checkpoints().lazy.preloadResume(saved.id, resumeKey(saved.machineKey));
    if (!saved) {
      // Built for a restore, it has no kernel: off again, for whichever start the page picks next.
      if (building) await building.then(() => m.powerOff(), () => undefined);
      return null;
    }
    const { expectSave: _expect, ...restoreOptions } = options;
    const result = await m.afterBoot(building, config, () => this.restore(saved.id, restoreOptions), t0);
    return { ...result, created: saved.created };
  }

  async bootResume(config: MachineConfig, options?: RestoreOptions): Promise<RestoreResult | null> {
    const m = this.m;
    const t0 = performance.now();
    // The built-in guest booted for a restore has no kernel to cold-boot with: it resumes by resumeSession.
    if (userDrives(config).length === 0) throw new Snap86Error("invalid-argument", "bootResume is for a user's own machine: the built-in guest resumes with resumeSession");
    await m.boot(config, true);
    try {
      const key = m.machineKey();
      // The newest autosave of this machine: what a reload resumes.
      const saved = key && m.checkpointsOff() === undefined ? await this.newestSessionSave(key) : undefined;
      if (!saved) {
        // Booted for a restore, so it has not run yet: now it starts from its firmware.
        await m.emulator?.run();
        m.cleanUpAfterStart();
        return null;
      }
      const result = await this.restore(saved.id, options);
      m.cleanUpAfterStart();
      return { ...result, restoreMs: Math.round(performance.now() - t0) };
    } catch (e) {
      throw await m.failBoot(e);
    }
  }

  /**
   * The newest session save of `machine` (a machine key or BUILT_IN_MACHINES), from the manifests
   * alone (sizes, list(), cost ~200 ms on a reload's path); the I/O worker reads its device state
   * ahead while the machine is built.
   */
  private newestSessionSave(machine: string): Promise<NewestCheckpoint | undefined> {
    return this.m.checkpoints().catalog.newest(AUTOSAVE_LABEL, machine);
  }

  lazyStatus(): LazyStatus {
    return this.m.checkpoints().lazy.status();
  }

  list(): Promise<CheckpointInfo[]> {
    return this.m.checkpoints().list();
  }

  remove(id: string): Promise<void> {
    const m = this.m;
    m.golden.forget(id);
    return m.serialize(() => m.checkpoints().remove(id, m.writableDisks()));
  }

  exportFile(id: string, signal?: AbortSignal): Promise<Blob> {
    return this.m.checkpoints().exportFile(id, signal);
  }

  importFile(file: Blob, signal?: AbortSignal): Promise<CheckpointInfo> {
    return this.m.checkpoints().importFile(file, signal);
  }
}

/**
 * The facet, with every CheckpointCatalog operation passed to the checkpoint-I/O worker as it is:
 * a property this class does not define is looked up on the I/O worker's catalog, and the list
 * the page shows is republished after it. So a new catalog operation needs no code here.
 */
export function checkpointsFacet(m: MachineOwner): CheckpointsFacet {
  const ops = new CheckpointsFacetImpl(m);
  return new Proxy(ops, {
    get(target, prop, receiver) {
      // "then" stays undefined: the facet must never look like a promise to whoever awaits it.
      if (typeof prop !== "string" || prop === "then" || prop in target) return Reflect.get(target, prop, receiver);
      return (id: string, ...rest: unknown[]) => m.checkpoints().editCatalog(prop as keyof CheckpointCatalog, id, rest);
    },
  }) as unknown as CheckpointsFacet;
}
