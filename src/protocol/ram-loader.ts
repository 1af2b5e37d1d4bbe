/**
 * The contract between the emulator worker and the RAM-loader worker (src/workers/ram-loader.ts)
 * of lazy restores: plain postMessage, because the emulator worker blocks on a SharedArrayBuffer
 * while a fault is served and Comlink's replies would never be read.
 */
import type { CheckpointManifest } from "./checkpoint-data";
import type { OpenedShareLink } from "./checkpoint-io";

/** The shared memory of one lazy session; plain data so it crosses postMessage as is. */
export interface FaultBuffers {
  control: SharedArrayBuffer;
  /** One chunk of decoded bytes. */
  staging: SharedArrayBuffer;
  /** UTF-8 message of the last error. */
  error: SharedArrayBuffer;
  /** Chunks the loader decoded, for the emulator to take without asking (src/lazy/chunk-shelf.ts). */
  shelf?: ShelfBuffers;
}

export interface ShelfBuffers {
  /** Slots of `chunkSize` bytes. */
  data: SharedArrayBuffer;
  /** Int32 per slot: seqlock version (odd while written), chunk index (-1: none), byte length. */
  meta: SharedArrayBuffer;
  /** Int32 per RAM chunk: its slot + 1, or 0. */
  slots: SharedArrayBuffer;
  chunkSize: number;
}

/** Emulator worker -> loader. */
export interface BeginMessage {
  type: "begin";
  session: number;
  checkpointId: string;
  buffers: FaultBuffers;
  order: number[];
  /** A share link, opened: RAM chunks come from the checkpoint store over the network (and are kept here). */
  share?: OpenedShareLink;
  /** The checkpoint's manifest as the emulator worker has it: no IndexedDB read before "ready". */
  manifest?: CheckpointManifest;
  /**
   * A resume of a machine's session (a reload restores its newest session save). Saves replace
   * each other every second, so a checkpoint's own working set is never the one the last resume
   * recorded: pages touched first after a resume are also kept under this key (one per machine)
   * and prefetched first at the next resume, whichever save it restores.
   */
  resumeKey?: string;
}

/** Emulator worker -> loader, ahead of the first restore: open the stores now. */
export interface WarmMessage {
  type: "warm";
  /**
   * The share the next session will begin on, known before the machine can run: it is opened now
   * so its pack (the pages the guest wants first) streams while the device state is applied.
   */
  share?: OpenedShareLink;
  /**
   * The session save a reload is about to resume, known before the machine is built: its working
   * set is read and its first chunks decoded now, so the restore finds them in memory.
   */
  resume?: { checkpointId: string; resumeKey: string };
}

/** Emulator worker -> loader: pages the guest touched for the first time since the restore (its working set). */
export interface TouchedMessage {
  type: "touched";
  session: number;
  pages: number[];
}

export type ToLoaderMessage = BeginMessage | WarmMessage | TouchedMessage;

/** Loader -> emulator worker messages. */
export type LoaderMessage =
  | { type: "ready"; session: number }
  | { type: "chunk"; session: number; index: number; bytes: Uint8Array }
  /** Pages ahead of their chunks (a share's pack): page k of `data` is RAM page `pages[k]`. */
  | { type: "pages"; session: number; pages: number[]; data: Uint8Array }
  | { type: "prefetched"; session: number }
  /**
   * The working set's first chunks were all sent (those before this message): a restore from this
   * browser's store lets the guest run once they are in, so its first steps do not fault one by one.
   */
  | { type: "warmed"; session: number }
  /** A shared checkpoint's RAM is all stored in this browser: it is listed now. */
  | { type: "stored"; session: number }
  | { type: "error"; session: number; message: string };
