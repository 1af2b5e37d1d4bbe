// Which checkpoint is the "golden" one (the clean booted state resets return to) for the running
// machine config, and taking it: only from a cold boot of the pristine disk, once, by whichever
// caller asks first (the page after boot, a test fixture). Owns the cached answer.
import type { CheckpointInfo, CheckpointResult } from "../protocol";
import { Snap86Error } from "../protocol/errors";
import { isOwnMachine } from "../protocol/checkpoint-data";

export interface GoldenHost {
  /** guestImageId/memory/vga/v86 of the running machine; undefined when off or not the built-in guest. */
  machineKey(): string | undefined;
  guestImageId(): string | undefined;
  list(): Promise<CheckpointInfo[]>;
  remove(id: string): Promise<void>;
  /** True once after a cold boot of the pristine disk (then false until the next one). */
  consumeCleanBoot(): boolean;
  /** Takes the golden checkpoint in the same step as the shell's first answer (the caller's queue). */
  take(): Promise<CheckpointResult>;
  /** Starts loading the golden image so the first reset does not wait for IndexedDB. */
  preload(info: CheckpointInfo): void;
  /**
   * A shared checkpoint still arriving (the published first-visit state, itself golden): settles
   * once it is listed. Undefined when none is.
   */
  arriving?(): Promise<void> | undefined;
}

/** How long past a complete RAM a Reset waits for the arriving golden state to be stored. */
export const ARRIVAL_PATIENCE_MS = 30_000;

export class GoldenCheckpoints {
  #info: CheckpointInfo | undefined;
  #pending: Promise<CheckpointInfo> | undefined;

  constructor(private readonly host: GoldenHost) {}

  /** The golden checkpoint of this machine config, taking it now if this boot may. */
  ensure(): Promise<CheckpointInfo> {
    this.#pending ??= this.#findOrTake().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /**
   * At the shell's first answer: takes the golden checkpoint when this boot may (a clean cold
   * boot) and resolves once it is taken. A golden state still arriving in the background (the
   * published first-visit state, streamed lazily) is not waited for: the caller holds the command
   * queue meanwhile, and the guest answers long before every page of that state is stored.
   */
  async captureCleanBoot(): Promise<void> {
    if (await this.find()) return;
    if (this.host.arriving?.()) {
      void this.ensure().catch(() => undefined);
      return;
    }
    await this.ensure();
  }

  /** Cached: listing every checkpoint costs IndexedDB reads a reset should not wait for. */
  async find(): Promise<CheckpointInfo | undefined> {
    const key = this.host.machineKey();
    if (!key) return undefined;
    if (this.#info?.machineKey === key) return this.#info;
    this.#info = (await this.host.list()).filter((c) => c.golden && c.machineKey === key).sort((a, b) => b.created - a.created)[0];
    return this.#info;
  }

  /**
   * The golden checkpoint, waiting for one still arriving (a Reset in the first seconds of a first
   * visit, while the published state streams in): `settled` resolves once its RAM is complete (or
   * throws if it failed), then at most `patienceMs` more for it to be stored and listed. Never
   * takes a checkpoint; undefined when there is none (yet).
   */
  async findOrAwait(settled: () => Promise<void>, patienceMs = ARRIVAL_PATIENCE_MS): Promise<CheckpointInfo | undefined> {
    const found = await this.find();
    const arriving = this.host.arriving?.();
    if (found || !arriving) return found;
    await settled();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([arriving, new Promise((resolve) => (timer = setTimeout(resolve, patienceMs)))]);
    clearTimeout(timer);
    return this.find();
  }

  /** A deleted checkpoint is no longer the golden one. */
  forget(id: string): void {
    if (this.#info?.id === id) this.#info = undefined;
  }

  async #findOrTake(): Promise<CheckpointInfo> {
    const existing = await this.find();
    if (existing) {
      this.host.preload(existing);
      return existing;
    }
    const arriving = this.host.arriving?.();
    if (arriving) {
      await arriving;
      const arrived = await this.find();
      if (arrived) {
        this.host.preload(arrived);
        return arrived;
      }
    }
    // A user's machine has the reset point its user chose (setResetPoint), never one taken by itself.
    const own = this.host.guestImageId();
    if (own !== undefined && isOwnMachine(own)) {
      throw noResetPoint(true);
    }
    if (!this.host.consumeCleanBoot()) {
      throw new Snap86Error("unsupported", "A clean booted state is saved only on a cold boot of the pristine disk: wipe the disk once to get one");
    }
    const guestImageId = this.host.guestImageId();
    if (!guestImageId) throw new Snap86Error("machine-off", "The machine is off: boot the built-in guest first");
    const taken = await this.host.take();
    // A golden of an older guest build (same label, other image) can never be used again.
    const list = await this.host.list();
    for (const c of list) {
      // Users' machines (own:...) keep their reset points: they are no build of the built-in guest.
      if (c.golden && c.id !== taken.id && !c.machineKey.startsWith(`${guestImageId}/`) && !isOwnMachine(c.machineKey)) await this.host.remove(c.id).catch(() => undefined);
    }
    const info = (await this.host.list()).find((c) => c.id === taken.id);
    if (!info) throw new Error("the golden checkpoint was not stored");
    return info;
  }
}

/** Why Reset cannot act: the built-in guest saves its clean state itself, a user's machine needs one chosen. */
export function noResetPoint(ownMachine: boolean): Snap86Error {
  return ownMachine
    ? new Snap86Error("no-clean-state", "This machine has no reset point yet: take a checkpoint and choose “Use as reset point” on it")
    : new Snap86Error("no-clean-state", "No clean booted state yet: it is saved when the shell first answers after a cold boot");
}
