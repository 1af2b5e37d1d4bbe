/**
 * Continuous session save (see docs/continuous-save.md): the running session is captured every
 * second or so as an autosave checkpoint, and each one replaces the last.
 *
 * A capture already costs only what changed: memory tracking sends just the chunks written since
 * the previous capture, and the disk layer frozen at the pause holds just the blocks written since.
 * What this adds is keeping the store flat while saves pile up:
 *  - the replaced save's manifest goes at once (a reload resumes only the newest);
 *  - its disk layer is committed into the layer above it (QEMU: block commit), which keeps the upper
 *    layer's id (its checkpoint and saved device state name it) and takes the older blocks, so the
 *    backing chain stays as deep as the checkpoints the user keeps however long the session runs;
 *  - chunks only replaced saves named are collected now and then, not every second;
 *  - the page's checkpoint list is refreshed now and then, not every second.
 */
import { manifestDiskLayers } from "../checkpoint/manifest";
import type { CheckpointInfo, EmulatorEvent } from "../protocol";
import type { DiskSession } from "./disk-session";

/** A full sweep of the chunk store reads every chunk key: every 30 s is plenty for garbage. */
const GC_EVERY_MS = 30_000;
/** The list shows the newest save's time: refreshing it every 10 s is enough for a person. */
const PUBLISH_EVERY_MS = 10_000;

export interface SessionSaveDeps {
  /** Every stored checkpoint (costly: sizes are computed); read once per worker for older pages' saves. */
  list(): Promise<CheckpointInfo[]>;
  /** Deletes manifests only. */
  forget(ids: readonly string[]): Promise<void>;
  collectGarbage(disks: readonly DiskSession[]): Promise<void>;
  publishList(): Promise<void>;
}

interface Save {
  id: string;
  /** The machine it saved (machineKey): a reload resumes each machine's newest save. */
  machineKey: string;
  /** The disk layers it froze: one per writable drive. */
  layers: readonly string[];
}

export class SessionSaves {
  /** Each machine's newest save (by machineKey): what a reload resumes, replaced by its next one. */
  readonly #newest = new Map<string, Save>();
  /** Machines whose saves of earlier pages (a resumed session) were looked up: once each. */
  readonly #checked = new Set<string>();
  #lastGc = performance.now();
  /** The sweep started by a save, if it still runs (never two at once). */
  #sweeping: Promise<void> | undefined;
  #lastPublish = 0;

  constructor(private readonly deps: SessionSaveDeps) {}

  /** After save `saved` is stored: the ones of its machine it replaces go, their disk layers folded away. */
  async replaceWith(disks: readonly DiskSession[], saved: Save): Promise<void> {
    const key = saved.machineKey;
    const previous = this.#newest.get(key);
    const replaced: Save[] = previous ? [previous] : [];
    this.#newest.set(key, saved);
    if (!this.#checked.has(key)) {
      this.#checked.add(key);
      // Only this machine's: another machine's newest save is what resumes that machine.
      const earlier = (await this.deps.list()).filter((c) => c.autosave && c.machineKey === key && c.id !== saved.id && c.id !== previous?.id);
      replaced.push(...earlier.map((c) => ({ id: c.id, machineKey: key, layers: manifestDiskLayers(c) })));
    }
    await this.deps.forget(replaced.map((r) => r.id));
    // Each layer is folded by the drive whose backing chain holds it (the others leave it alone).
    for (const layer of replaced.flatMap((r) => r.layers)) for (const disk of disks) await disk.foldUnreferencedLayer(layer);
    const now = performance.now();
    if (now - this.#lastGc >= GC_EVERY_MS && !this.#sweeping) {
      this.#lastGc = now;
      // Not part of the save: a sweep takes a few hundred ms with a session's chunks, and the
      // save's duration sets when the next one may start (autosave-timer.ts), so awaiting it here
      // held the next save back by seconds. A failed sweep leaves garbage for the next one.
      this.#sweeping = this.deps
        .collectGarbage(disks)
        .catch(() => undefined)
        .finally(() => (this.#sweeping = undefined));
    }
    if (now - this.#lastPublish >= PUBLISH_EVERY_MS) {
      this.#lastPublish = now;
      await this.deps.publishList();
    }
  }
}

/** Passes on every event but a checkpoint's progress: a session save is no action of the user's. */
export function withoutCheckpointProgress(emit: (event: EmulatorEvent) => void): (event: EmulatorEvent) => void {
  return (event) => {
    if (event.type !== "checkpoint") emit(event);
  };
}
