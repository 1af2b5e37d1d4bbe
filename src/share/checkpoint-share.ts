/**
 * Share links for checkpoints, on the checkpoint-I/O worker's side (see docs/sharing.md):
 *  - publish: the checkpoint manifest, every chunk it names (RAM + device state) exactly as
 *    stored (compressed; verified first, so a damaged chunk is never spread), and its disk
 *    layer flattened like a .snap86 export (blocks zstd-compressed here) become encrypted store
 *    objects; only what the store lacks is uploaded; the link carries the key.
 *  - open: the link is parsed strictly, the envelope fetched, decrypted and validated, every
 *    object fetched (a few at a time), decrypted, decoded and checked against its content hash,
 *    then written into the local stores the way importCheckpoint does: chunks and disk layer
 *    first, the manifest last, so a failure leaves no listed checkpoint and touches nothing else.
 */
import { forEachLimited } from "../async/for-each-limited";
import { CODEC_BY_ID, imageIdOf, isSharedCheckpoint, type SharedCheckpoint, type SharedDisk } from "./shared-checkpoint";
import type { LayerStore } from "../disk/layer-store";
import { shareErrors } from "./errors";
import { ShareKeyStore } from "./key-store";
import type { BaseImageIdentity } from "./manifest-codec";
import { decodeFrame, FRAME_HEADER_BYTES } from "./object-frame";
import { IV_BYTES, TAG_BYTES } from "./crypto";
import { openShare, publishShare, type ShareObject, type ShareReader } from "./share-session";
import { StoreClient } from "./store-client";
import { loadGuestManifest } from "../guest/guest-loader";
import { GUEST_URLS } from "../protocol/guest-manifest";
import type { ShareResult } from "../protocol";
import type { OpenedShareLink, PreparedShare, SharedMachine, ShareProgress } from "../protocol/checkpoint-io";
import type { ImageAtHand } from "../disk/image-by-id";
import { collectImages, imagesMatch, receiveImages } from "./image-share";
import { blockObject, collectObjects } from "./share-objects";
import type { ImageBy, SharedImage } from "./shared-images";

export type { PreparedShare, ShareProgress };
export { imageIdOf, isSharedCheckpoint, type SharedCheckpoint, type SharedDisk };
import { decodeChunk, sha256Hex, type ChunkCodec } from "../checkpoint/codec";
import { decodeManifest, manifestChunkHashes, type CheckpointManifest } from "../checkpoint/manifest";
import { buildPackParts, PACK_PAGE_SIZE } from "./page-pack";
import { readDeviceState } from "../checkpoint/restore";
import type { CheckpointStore } from "../checkpoint/checkpoint-store";
import type { NewChunk } from "../checkpoint/store";
import { Snap86Error, throwIfAborted } from "../protocol/errors";
import { checkpointMissing } from "../checkpoint/errors";

export interface GuestIdentity {
  /** guest.json inputsHash: what CheckpointManifest.machine.guestImageId holds. */
  readonly guestImageId: string;
  readonly base: BaseImageIdentity;
}

export interface ShareBridgeDeps {
  readonly checkpoints: CheckpointStore;
  readonly layers: LayerStore;
  readonly client: StoreClient;
  readonly keys: ShareKeyStore;
  /** The guest this app serves; asked lazily (a fetch of guest.json in the browser). */
  /** The served guest of that build, or the default one when none is (the caller says so). */
  readonly guest: (guestImageId?: string) => Promise<GuestIdentity>;
  /** Objects in flight while opening (default 6, what a browser runs per host anyway). */
  readonly concurrency?: number;
  /** RAM pages the guest touched first after restores of a checkpoint, or before its capture (this browser's record). */
  readonly workingSet?: (checkpointId: string) => Promise<number[]>;
  /** Base URL of the store objects are read from, when not the app's own (kept with a shared image to read its blocks later). */
  readonly storeBase?: string;
  /** A user's image by its id, to read every block of it (src/disk/image-by-id.ts). */
  readonly openImage?: (imageId: string) => Promise<ImageAtHand>;
}

/** What the sharer chose (src/protocol/share.ts ShareOptions). */
export interface PublishOptions {
  readonly imageBy?: ImageBy;
}


const WRITE_BATCH = 64;
const MIB = 1024 * 1024;

function sharable(m: CheckpointManifest, guest: GuestIdentity | null): void {
  if (!guest) return; // a user's machine: its images travel with the link
  if (m.machine.guestImageId === "") throw new Snap86Error("unsupported", "Only checkpoints of the built-in guest can be shared: this one runs your own image");
  if (m.machine.guestImageId !== guest.guestImageId) {
    throw new Snap86Error("guest-mismatch", "This checkpoint was made with another build of the guest than this app serves, so a link to it could not be opened: it cannot be shared");
  }
}

/** Uploads a checkpoint; aborted by `signal` before its manifest is uploaded, no link exists (uploaded objects are reused by the next try). */
export async function publishCheckpoint(
  deps: ShareBridgeDeps,
  id: string,
  appUrl: string,
  onProgress?: (p: ShareProgress) => void,
  signal?: AbortSignal,
  options: PublishOptions = {},
): Promise<ShareResult> {
  throwIfAborted(signal);
  const m = await deps.checkpoints.getManifest(id);
  if (!m) throw checkpointMissing(id);
  const guest = m.machine.drives ? null : await deps.guest(m.machine.guestImageId);
  sharable(m, guest);
  const { objects, disks, known } = await collectObjects(deps, m, guest, signal);
  const openImage = deps.openImage;
  if (!guest && !openImage) throw new Snap86Error("unsupported", "This build cannot read a user's image to share it");
  const images = guest || !openImage
    ? undefined
    : await collectImages(m, options.imageBy ?? "upload", {
        open: openImage,
        add: (hash, bytes) => {
          if (known.has(hash)) return;
          known.add(hash);
          objects.push(blockObject(hash, bytes));
        },
        progress: (done, total) => onProgress?.({ phase: "read-image", done, total }),
      }, signal);
  const sealedBytes = objects.reduce((n, o) => n + o.plaintext.byteLength + IV_BYTES + TAG_BYTES, 0);
  const shareKey = await deps.keys.get(id);
  const checkpoint: SharedCheckpoint = { manifest: m, disk: disks[0] ?? null, sealedBytes, ...(guest ? {} : { drives: disks }) };
  const t0 = performance.now();
  // The working set's pages, in the order the guest wanted them, travel as the pack.
  const workingSet = (await deps.workingSet?.(id).catch(() => [])) ?? [];
  const packParts = await buildPackParts(m.id, workingSet, ramPageReader(deps, m, workingSet));
  throwIfAborted(signal);
  const published = await publishShare(
    deps.client,
    { appUrl, checkpoint, objects, ...(guest ? { base: guest.base } : { images }), packParts, ...(shareKey ? { shareKey } : {}) },
    { concurrency: 4, onProgress: (p) => onProgress?.({ phase: "upload", done: p.uploadedBytes + p.skippedBytes, total: p.totalBytes }), ...(signal ? { signal } : {}) },
  );
  const uploadMs = Math.round(performance.now() - t0);
  if (!shareKey) await deps.keys.put(id, published.shareKey);
  return { link: published.link, uploadedBytes: published.progress.uploadedBytes, skippedBytes: published.progress.skippedBytes, packBytes: published.packBytes, uploadMs };
}

/**
 * Pages of the checkpoint's RAM from the local store (null for a zero chunk). A chunk is decoded
 * (and verified) once, when its first page is asked for; only the `wanted` pages of it are kept
 * until asked for, so building a pack never holds every chunk its pages come from.
 */
function ramPageReader(deps: ShareBridgeDeps, m: CheckpointManifest, wanted: readonly number[]): (page: number) => Promise<Uint8Array | null> {
  const pagesPerChunk = m.chunkSize / PACK_PAGE_SIZE;
  const wantedOf = new Map<number, number[]>();
  for (const page of new Set(wanted)) {
    const chunk = Math.floor(page / pagesPerChunk);
    wantedOf.set(chunk, [...(wantedOf.get(chunk) ?? []), page]);
  }
  const kept = new Map<number, Uint8Array | null>();
  return async (page) => {
    const chunk = Math.floor(page / pagesPerChunk);
    const hash = m.ram.chunks[chunk];
    if (!hash) return null;
    if (!kept.has(page)) {
      const [raw] = await deps.checkpoints.readVerified([hash], m.id);
      for (const p of wantedOf.get(chunk) ?? [page]) {
        const at = (p - chunk * pagesPerChunk) * PACK_PAGE_SIZE;
        kept.set(p, at + PACK_PAGE_SIZE <= raw.byteLength ? raw.slice(at, at + PACK_PAGE_SIZE) : null);
      }
    }
    const bytes = kept.get(page) ?? null;
    kept.delete(page); // each page is asked for once
    return bytes;
  };
}

/**
 * Largest sealed object holding content of at most rawLength bytes: objects are encoded raw when
 * zstd would not make them smaller, so a frame never exceeds its header plus rawLength.
 */
export function sealedBound(rawLength: number): number {
  return IV_BYTES + FRAME_HEADER_BYTES + rawLength + TAG_BYTES;
}

/** Decodes one fetched object and checks it is the content `key` names; throws ShareError. */
export function decodeObject(key: string, plain: Uint8Array, maxRawLength: number): { codec: ChunkCodec; rawLength: number; encoded: Uint8Array; raw: Uint8Array } {
  const frame = decodeFrame(plain);
  const codec = frame ? CODEC_BY_ID[frame.codecId] : undefined;
  if (!frame || !codec || frame.rawLength > maxRawLength) throw shareErrors.damaged(`object for ${key} is malformed`);
  try {
    return { codec, rawLength: frame.rawLength, encoded: frame.encoded, raw: decodeChunk(frame.encoded, codec, frame.rawLength) };
  } catch {
    throw shareErrors.damaged(`object for ${key} does not decode`);
  }
}

/** A link checked against this app's guest: the share session and the checkpoint it names. */
export async function openChecked(deps: ShareBridgeDeps, link: string, signal?: AbortSignal) {
  const opened = await openShare(deps.client, link, isSharedCheckpoint, signal);
  const { checkpoint: shared, base, images } = opened.manifest;
  const m = decodeManifest(shared.manifest);
  if (images) {
    // A user's machine: the link's images must be its drives, and its disk layers lie on them.
    const layers = m.driveLayers ?? [];
    const disks = shared.drives ?? [];
    const onImage = (i: number) => images.find((im) => im.kind === layers[i].kind)?.imageId;
    if (!imagesMatch(m, images) || disks.length !== layers.length || disks.some((d, i) => d.layerId !== layers[i].diskLayerId || d.imageId !== onImage(i))) {
      throw shareErrors.damaged("its images are not its machine's drives");
    }
    return { opened, shared, m, images };
  }
  if (!base || m.machine.drives) throw shareErrors.damaged("a user's machine without its images");
  const guest = await deps.guest(m.machine.guestImageId);
  if (base.sha256 !== guest.base.sha256 || base.size !== guest.base.size) {
    throw shareErrors.guestMismatch(`disk ${base.sha256.slice(0, 12)}…, ${base.size} bytes; this app has ${guest.base.sha256.slice(0, 12)}…`);
  }
  if (m.machine.guestImageId !== guest.guestImageId) {
    throw shareErrors.guestMismatch(`guest build ${m.machine.guestImageId.slice(0, 12) || "a user image"}; this app has ${guest.guestImageId.slice(0, 12)}`);
  }
  if (shared.disk && shared.disk.imageId !== imageIdOf(guest.base)) throw shareErrors.guestMismatch(`disk layer on ${shared.disk.imageId.slice(0, 19)}…`);
  return { opened, shared, m, images: undefined };
}

export type Opened = Awaited<ReturnType<typeof openChecked>>;

/** Fetches one checkpoint chunk object, verified against its content hash; the local record to store. */
export async function fetchChunk(
  opened: ShareReader,
  hash: string,
  chunkSize: number,
  priority?: "high" | "low",
  signal?: AbortSignal,
): Promise<NewChunk & { raw: Uint8Array; sealedBytes: number }> {
  const plain = await opened.readObject(hash, signal, priority, sealedBound(chunkSize));
  const obj = decodeObject(hash, plain, chunkSize);
  if ((await sha256Hex(obj.raw)) !== hash) throw shareErrors.damaged(`object for chunk ${hash} has other content`);
  return { hash, bytes: obj.encoded, rawLength: obj.rawLength, codec: obj.codec, raw: obj.raw, sealedBytes: plain.byteLength + IV_BYTES + TAG_BYTES };
}

/**
 * Fetches `hashes` (those the local store lacks) a few at a time and stores them in batches.
 * Objects stream in as they are verified; `fetched` reports sealed bytes.
 */
async function fetchChunksInto(
  deps: ShareBridgeDeps,
  opened: Opened["opened"],
  hashes: readonly string[],
  chunkSize: number,
  fetched: (sealedBytes: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  let pending: NewChunk[] = [];
  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    await deps.checkpoints.putChunks(batch);
  };
  await forEachLimited(
    hashes,
    deps.concurrency ?? 6,
    async (hash) => {
      const { raw: _raw, sealedBytes, ...record } = await fetchChunk(opened, hash, chunkSize, undefined, signal);
      fetched(sealedBytes);
      pending.push(record);
      if (pending.length >= WRITE_BATCH) await flush();
    },
    signal,
  );
  await flush();
}

/** Fetches one disk or image block object: its content, verified against its hash and length. */
export async function fetchBlock(opened: ShareReader, hash: string, blockSize: number, length: number, signal?: AbortSignal): Promise<{ raw: Uint8Array; sealedBytes: number }> {
  const plain = await opened.readObject(hash, signal, undefined, sealedBound(blockSize));
  const obj = decodeObject(hash, plain, blockSize);
  if (obj.rawLength !== length || (await sha256Hex(obj.raw)) !== hash) throw shareErrors.damaged(`object for block ${hash} has other content`);
  return { raw: obj.raw, sealedBytes: plain.byteLength + IV_BYTES + TAG_BYTES };
}

/** Fetches a shared disk layer (if this browser lacks it) and imports it; returns whether it was created. */
async function importSharedDisk(deps: ShareBridgeDeps, opened: ShareReader, shared: SharedDisk, fetched: (sealedBytes: number) => void, signal?: AbortSignal): Promise<boolean> {
  const disk = !(await deps.layers.getLayer(shared.layerId)) ? shared : null;
  if (!disk) return false;
  const blocks = new Map<string, Uint8Array>();
  const hashes = [...new Set(disk.blocks.map(([, h]) => h))];
  const one = async (hash: string): Promise<void> => {
    const { raw, sealedBytes } = await fetchBlock(opened, hash, disk.blockSize, disk.blockSize, signal);
    fetched(sealedBytes);
    blocks.set(hash, raw);
  };
  await forEachLimited(hashes, deps.concurrency ?? 6, one, signal);
  // The last moment to cancel: a layer imported after this is kept only with its checkpoint.
  throwIfAborted(signal);
  const ordered = disk.blocks.map(([index, hash]) => [index, blocks.get(hash) as Uint8Array] as const);
  return deps.layers.importLayer({ id: disk.layerId, imageId: disk.imageId, blockSize: disk.blockSize }, ordered);
}

/**
 * Registers the checkpoint's write, fetches the chunks `which` picks (among those this browser
 * lacks) and the disk layer, then runs `finish`. On any failure the pending write is dropped and
 * a layer created here is deleted: nothing is listed, nothing that was there before is touched.
 */
async function fetchShared<T>(
  deps: ShareBridgeDeps,
  { opened, shared, m, images }: Opened,
  which: (m: CheckpointManifest, present: ReadonlyMap<string, number>) => string[],
  finish: (machine: SharedMachine | undefined) => Promise<T>,
  onProgress?: (p: ShareProgress) => void,
  signal?: AbortSignal,
): Promise<T> {
  const present = await deps.checkpoints.beginWrite(m.id, manifestChunkHashes(m));
  const created: string[] = [];
  try {
    const total = shared.sealedBytes;
    let done = 0;
    const fetched = (sealedBytes: number): void => {
      done += sealedBytes;
      onProgress?.({ phase: "download", done, total: Math.max(total, done) });
    };
    const machine = images ? await receiveSharedImages(deps, opened, m, images) : undefined;
    await fetchChunksInto(deps, opened, which(m, present), m.chunkSize, fetched, signal);
    for (const disk of shared.drives ?? (shared.disk ? [shared.disk] : [])) {
      if (await importSharedDisk(deps, opened, disk, fetched, signal)) created.push(disk.layerId);
    }
    return await finish(machine);
  } catch (e) {
    await deps.checkpoints.abortWrite(m.id).catch(() => undefined);
    for (const layerId of created) await deps.layers.deleteLayer(layerId).catch(() => undefined);
    throw e;
  }
}

/** A user's machine: its images registered here (read on demand, first block checked now), and the machine to boot. */
async function receiveSharedImages(deps: ShareBridgeDeps, opened: Opened["opened"], m: CheckpointManifest, images: readonly SharedImage[]): Promise<SharedMachine> {
  const drives = await receiveImages(images, { keys: opened.keys, objects: opened.manifest.objects, ...(deps.storeBase ? { store: deps.storeBase } : {}) });
  return { drives, memoryMiB: m.machine.memoryBytes / MIB, vgaMemoryMiB: m.machine.vgaMemoryBytes / MIB };
}

/**
 * Fetches, verifies and stores a shared checkpoint; returns its id. Throws ShareError for link,
 * key, store and integrity failures (nothing is listed then, nothing local is changed).
 */
export async function openSharedCheckpoint(deps: ShareBridgeDeps, link: string, onProgress?: (p: ShareProgress) => void, signal?: AbortSignal): Promise<string> {
  const checked = await openChecked(deps, link, signal);
  const { m } = checked;
  if (await deps.checkpoints.getManifest(m.id)) return m.id; // opened before (or our own link): nothing to fetch
  onProgress?.({ phase: "download", done: 0, total: checked.shared.sealedBytes });
  const all = (manifest: CheckpointManifest, present: ReadonlyMap<string, number>): string[] => [...manifestChunkHashes(manifest)].filter((h) => !present.has(h));
  const commit = async (): Promise<string> => {
    await deps.checkpoints.commitManifest(m, m.id);
    return m.id;
  };
  return fetchShared(deps, checked, all, commit, onProgress, signal);
}

/**
 * The first half of a lazy open: the device state and the disk layer are fetched, verified and
 * stored (the guest cannot run without them), RAM is not. The checkpoint stays an unlisted
 * pending write until SharedRamSource has stored every RAM chunk; nothing is listed before.
 */
export async function prepareSharedCheckpoint(deps: ShareBridgeDeps, link: string, onProgress?: (p: ShareProgress) => void, signal?: AbortSignal): Promise<PreparedShare> {
  const checked = await openChecked(deps, link, signal);
  const { m, images } = checked;
  if (await deps.checkpoints.getManifest(m.id)) {
    // Opened before (or our own): its images are kept here already, unless forgotten since.
    const machine = images ? await receiveSharedImages(deps, checked.opened, m, images) : undefined;
    return { kind: "local", id: m.id, ...(machine ? { machine } : {}) };
  }
  const deviceOnly = (manifest: CheckpointManifest, present: ReadonlyMap<string, number>): string[] => [
    ...new Set(manifest.deviceState.chunks.filter((h): h is string => !!h && !present.has(h))),
  ];
  const { opened } = checked;
  // The RAM loader reads on with what was opened here: it never parses or decrypts the link again.
  const handOn: OpenedShareLink = { manifest: m, keys: opened.keys, objects: opened.manifest.objects, ...(opened.manifest.pack ? { pack: opened.manifest.pack } : {}) };
  const finish = async (machine: SharedMachine | undefined): Promise<PreparedShare> => {
    const deviceState = await readDeviceState(deps.checkpoints, m);
    return { kind: "lazy" as const, manifest: m, deviceState, opened: handOn, ...(machine ? { machine } : {}) };
  };
  return fetchShared(deps, checked, deviceOnly, finish, onProgress, signal);
}

// The browser's dependencies live in browser-deps.ts (workers import them from here).
export { browserShareDeps } from "./browser-deps";
