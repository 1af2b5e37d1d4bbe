/**
 * The RAM loader of lazy restores, run in its own worker (src/workers/ram-loader.ts). It keeps an
 * event loop free while the emulator worker blocks in a page fault: it reads chunks from
 * IndexedDB, verifies and decodes them into shared memory (faults) or posts them (prefetch). One
 * worker serves every restore of the emulator's lifetime; a new `begin` supersedes the previous
 * session. Shared checkpoints' RAM comes from a source the share folder provides (`openShared`,
 * from the link the checkpoint-I/O worker opened), so lazy restore knows nothing of how a share is read.
 */
import type { CheckpointManifest } from "../protocol/checkpoint-data";
import type { OpenedShareLink } from "../protocol/checkpoint-io";
import type { LoaderMessage, ToLoaderMessage } from "../protocol/ram-loader";
import { cachedChunkSource, DecodedChunkCache, StoreChunkSource, type ChunkReader, type ChunkSource } from "./chunk-source";
import { chunksOfPages, runLoaderSession, WARM_CHUNKS } from "./loader-session";
import { PAGE_SIZE } from "../v86/page-walker";
import { RECORD_MS, recordWorkingSet, WorkingSetStore } from "./working-set-store";
import { Snap86Error } from "../protocol/errors";

/** RAM of a shared checkpoint, streamed from the checkpoint store. */
export interface SharedRamSource extends ChunkSource {
  readonly manifest: CheckpointManifest;
  /** Lists the checkpoint once all of its RAM is stored here; true when it did. */
  commitIfComplete(): Promise<boolean>;
}

/** The local checkpoint store as the loader uses it (src/workers/ram-loader.ts passes the real one in). */
export interface LocalCheckpoints extends ChunkReader {
  /** The checkpoint's validated manifest; undefined if it is not stored here. */
  getManifest(id: string): Promise<CheckpointManifest | undefined>;
}

export interface RamLoaderDeps {
  store(): Promise<LocalCheckpoints>;
  /** RAM of a share the checkpoint-I/O worker opened (it is not opened again here). */
  openShared(link: OpenedShareLink): Promise<SharedRamSource>;
  post(message: LoaderMessage, transfer?: Transferable[]): void;
}

/** Working-set chunks a resume's read-ahead decodes: twice what the guest waits for before it runs. */
const PRELOAD_CHUNKS = 2 * WARM_CHUNKS;
/** A read-ahead no session took within this long lets its pin go. */
const READ_AHEAD_TTL_MS = 60_000;

interface ReadAhead {
  id: string;
  resumeKey: string;
  sets: Promise<number[][]>;
  /** The read-ahead's chunks are decoded in the cache (or it gave up). */
  done: Promise<void>;
  /** The manifest and its pin (undefined: not stored, or the read failed). */
  pinned: Promise<{ manifest: CheckpointManifest; unpin: () => Promise<void> } | undefined>;
  /** Lets the pin go (nobody will take this read-ahead). */
  release(): void;
  /** A session took it, pin included: the session unpins when it ends. */
  taken(): void;
}

const ramChunks = (manifest: CheckpointManifest): string[] => manifest.ram.chunks.filter((h): h is string => !!h);

/** Returns the handler of the emulator worker's messages. */
export function ramLoader(deps: RamLoaderDeps): (m: ToLoaderMessage | undefined) => void {
  const { store, post } = deps;
  let workingSetsPromise: Promise<WorkingSetStore> | undefined;
  const workingSets = (): Promise<WorkingSetStore> => (workingSetsPromise ??= WorkingSetStore.open());
  /** 32 MiB of decoded chunks kept across restores (working sets are a few MiB). */
  const decoded = new DecodedChunkCache(32 * 1024 * 1024);
  /** The working-set recorder of each running session. */
  const recorders = new Map<number, (pages: readonly number[]) => void>();
  /** A share opened ahead of its session (its pack already streaming); taken by the session that begins on it. */
  let preopened: { id: string; source: Promise<SharedRamSource> } | undefined;
  /** A session save read ahead of its resume (see WarmMessage.resume); taken by the session that begins on it. */
  let preloaded: ReadAhead | undefined;
  const readWorkingSets = (checkpointId: string, resumeKey: string | undefined): Promise<number[][]> =>
    workingSets()
      .then((ws) => Promise.all([ws.get(checkpointId), resumeKey ? ws.get(resumeKey) : []]))
      .catch((): number[][] => [[], []]);
  /** What the last resume of this machine touched first, then the checkpoint's own set. */
  const workingSetOf = ([own, resumed]: number[][]): number[] => [...new Set([...resumed, ...own])];

  let readAheads = 0;
  /**
   * Reads a session save ahead of its resume, while the machine is built: its manifest, its pin
   * (before any chunk read: IndexedDB queues a read-write transaction behind the read-only ones
   * before it, which cost a resume ~40-60 ms between "begin" and "ready"), its working sets, and
   * the first PRELOAD_CHUNKS chunks of them, decoded into the cache the session reads first.
   * Failures here are the session's to meet (and report) when it does the same itself.
   */
  const readAhead = (id: string, resumeKey: string): ReadAhead => {
    const sets = readWorkingSets(id, resumeKey);
    const pinned = (async () => {
      const s = await store();
      const manifest = await s.getManifest(id);
      if (!manifest) return undefined;
      return { manifest, unpin: await s.pin(`lazy-restore:resume-${++readAheads}:${id}`, ramChunks(manifest)) };
    })().catch(() => undefined);
    const done = (async () => {
      const read = await pinned;
      if (!read) return;
      const { manifest } = read;
      const first = chunksOfPages(workingSetOf(await sets), manifest.chunkSize / PAGE_SIZE)
        .filter((i) => manifest.ram.chunks[i])
        .slice(0, PRELOAD_CHUNKS);
      if (first.length > 0) await cachedChunkSource(new StoreChunkSource(await store(), manifest), manifest, decoded).readMany(first);
    })().catch(() => undefined);
    // Nobody came for it (the restore failed or went elsewhere): the pin is let go.
    const expiry = setTimeout(release, READ_AHEAD_TTL_MS);
    function release(): void {
      clearTimeout(expiry);
      void pinned.then((read) => read?.unpin()).catch(() => undefined);
    }
    return { id, resumeKey, sets, done, pinned, release, taken: () => clearTimeout(expiry) };
  };

  return (m) => {
    if (m?.type === "touched") {
      recorders.get(m.session)?.(m.pages);
      return;
    }
    if (m?.type === "warm") {
      void store().catch(() => undefined);
      void workingSets().catch(() => undefined);
      if (m.share) {
        const source = deps.openShared(m.share);
        source.catch(() => undefined); // a session that begins on it sees the failure
        preopened = { id: m.share.manifest.id, source };
      }
      if (m.resume) {
        preloaded?.release();
        preloaded = readAhead(m.resume.checkpointId, m.resume.resumeKey);
      }
      return;
    }
    if (m?.type !== "begin") return;
    void (async () => {
      try {
        // Stores and the working set are read together: the guest waits for "ready".
        const [s, ws] = await Promise.all([store(), workingSets()]);
        const early = preloaded?.id === m.checkpointId && preloaded.resumeKey === m.resumeKey ? preloaded : undefined;
        if (!early) preloaded?.release();
        early?.taken();
        preloaded = undefined;
        const workingSetRead = early?.sets ?? readWorkingSets(m.checkpointId, m.resumeKey);
        let source: ChunkSource;
        let onPrefetched: (() => Promise<void>) | undefined;
        let unpin: (() => Promise<void>) | undefined;
        if (m.share) {
          const early = preopened?.id === m.share.manifest.id ? preopened.source : undefined;
          preopened = undefined;
          const shared = await (early ?? deps.openShared(m.share));
          if (shared.manifest.id !== m.checkpointId) throw new Error(`the link names checkpoint ${shared.manifest.id}, not ${m.checkpointId}`);
          source = shared;
          onPrefetched = async () => {
            if (await shared.commitIfComplete()) post({ type: "stored", session: m.session });
          };
        } else {
          const read = await early?.pinned;
          const manifest = read?.manifest ?? (m.manifest?.id === m.checkpointId ? m.manifest : await s.getManifest(m.checkpointId));
          if (!manifest) throw new Snap86Error("checkpoint-missing", `checkpoint ${m.checkpointId} does not exist`, { detail: { checkpointId: m.checkpointId } });
          // The guest faults on these chunks for as long as it runs: deleting the checkpoint
          // meanwhile (and the GC that follows) must not take them away. A read-ahead pinned them already.
          unpin = read?.unpin ?? (await s.pin(`lazy-restore:${m.session}:${m.checkpointId}`, ramChunks(manifest)));
          source = cachedChunkSource(new StoreChunkSource(s, manifest), manifest, decoded);
        }
        const [own, resumed] = await workingSetRead;
        // What the last resume of this machine touched first, then the checkpoint's own set.
        const workingSet = workingSetOf([own, resumed]);
        const records = [recordWorkingSet(ws, m.checkpointId, undefined, own), ...(m.resumeKey ? [recordWorkingSet(ws, m.resumeKey, undefined, resumed)] : [])];
        recorders.set(m.session, (pages) => records.forEach((record) => record(pages)));
        setTimeout(() => recorders.delete(m.session), RECORD_MS + 1000);
        post({ type: "ready", session: m.session });
        // The chunks read ahead are decoded in the cache once it settles: not read twice.
        await early?.done;
        try {
          await runLoaderSession(source, { session: m.session, buffers: m.buffers, order: m.order, workingSet, onPrefetched }, post);
        } finally {
          await unpin?.().catch(() => undefined);
        }
      } catch (e) {
        post({ type: "error", session: m.session, message: e instanceof Error ? e.message : String(e) });
      }
    })();
  };
}
