import { deriveShareKeys, generateShareKey, openSealed, sealObject, sha256Hex, type SealedObject } from "./crypto";
import { shareErrors } from "./errors";
import { buildShareLink, parseShareLink } from "./link";
import { decodeShareManifest, encodeShareManifest, type BaseImageIdentity, type CheckpointValidator, type ShareManifest, type SharePack } from "./manifest-codec";
import type { StoreClient, UploadOptions, UploadProgress } from "./store-client";

/**
 * One object to share. `key` is what the checkpoint names it by (a content hash of the data it
 * stands for); `plaintext` is what gets sealed, which may be an encoding of that data (the app
 * shares compressed chunks), so the opening side verifies `key` against the decoded content.
 */
export interface ShareObject {
  readonly key: string;
  readonly plaintext: Uint8Array;
}

/** Objects whose plaintext IS the content, keyed by its sha256. */
export async function rawObjects(chunks: readonly Uint8Array[]): Promise<ShareObject[]> {
  return Promise.all(chunks.map(async (plaintext) => ({ key: await sha256Hex(plaintext), plaintext })));
}

export interface PublishInput<T> {
  readonly appUrl: string;
  /** Checkpoint description; names its objects by their `key`s. */
  readonly checkpoint: T;
  readonly objects: readonly ShareObject[];
  readonly base: BaseImageIdentity;
  /** Pass the key kept from an earlier share of this checkpoint to re-upload nothing. */
  readonly shareKey?: Uint8Array;
  /** Keys of objects an opener wants first, in that order: also uploaded as one pack object. */
  readonly packKeys?: readonly string[];
}

export interface PublishedShare {
  readonly link: string;
  /** Bytes of the pack object (counted in progress too): the working set a second time, in one object. */
  readonly packBytes: number;
  readonly shareKey: Uint8Array;
  readonly manifestName: string;
  readonly progress: UploadProgress;
}

/**
 * Seals every chunk, uploads what the store lacks, then the manifest last, so a link can never
 * name a manifest whose objects are not all stored yet.
 */
export async function publishShare<T>(store: StoreClient, input: PublishInput<T>, options: UploadOptions = {}): Promise<PublishedShare> {
  const shareKey = input.shareKey ?? generateShareKey();
  const keys = await deriveShareKeys(shareKey);
  const sealed: SealedObject[] = [];
  const objects: Record<string, string> = {};
  for (const object of input.objects) {
    const item = await sealObject(keys, object.plaintext);
    sealed.push(item);
    objects[object.key] = item.name;
  }
  const pack = buildPack(input.objects.map((o, i) => [o.key, sealed[i].bytes] as const), input.packKeys ?? []);
  const packed = pack ? await sealedPack(pack) : undefined;
  const progress = await store.uploadObjects(packed ? [...sealed, packed.object] : sealed, options);
  const manifest = await encodeShareManifest(keys, { checkpoint: input.checkpoint, objects, base: input.base, ...(packed ? { pack: packed.pack } : {}) });
  await store.putManifest(manifest.name, manifest.bytes, options.signal);
  return {
    link: buildShareLink(input.appUrl, { manifest: manifest.name, key: shareKey }),
    packBytes: packed?.object.bytes.byteLength ?? 0,
    shareKey,
    manifestName: manifest.name,
    progress,
  };
}

/** The sealed objects of `keys` (deduplicated, known ones only), back to back. */
/**
 * The pack is for what an opener needs before the guest answers, not a second copy of the
 * checkpoint: the first keys up to this many sealed bytes (the rest is prefetched object by object).
 */
export const MAX_PACK_BYTES = 3 * 1024 * 1024;

function buildPack(sealed: ReadonlyArray<readonly [key: string, bytes: Uint8Array]>, keys: readonly string[]): Array<{ key: string; bytes: Uint8Array }> | undefined {
  const byKey = new Map(sealed);
  const seen = new Set<string>();
  const parts: Array<{ key: string; bytes: Uint8Array }> = [];
  let total = 0;
  for (const key of keys) {
    const bytes = byKey.get(key);
    if (!bytes || seen.has(key)) continue;
    if (total + bytes.byteLength > MAX_PACK_BYTES) break;
    seen.add(key);
    parts.push({ key, bytes });
    total += bytes.byteLength;
  }
  return parts.length > 1 ? parts : undefined;
}

async function sealedPack(parts: Array<{ key: string; bytes: Uint8Array }>): Promise<{ object: SealedObject; pack: SharePack }> {
  const total = parts.reduce((n, p) => n + p.bytes.byteLength, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p.bytes, at);
    at += p.bytes.byteLength;
  }
  const name = await sha256Hex(bytes);
  // Its parts are sealed already; the pack itself is only their concatenation.
  return { object: { name, bytes, plainHash: name }, pack: { name, entries: parts.map((p) => [p.key, p.bytes.byteLength] as const) } };
}

export interface OpenedShare<T> {
  readonly manifest: ShareManifest<T>;
  /**
   * Fetches one object by key: checked against its store name, then decrypted and authenticated.
   * The caller still checks the content against `key` (it knows the plaintext's encoding).
   */
  readObject(key: string, signal?: AbortSignal, priority?: "high" | "low"): Promise<Uint8Array<ArrayBuffer>>;
  /** readObject for objects whose plaintext is the content: also checks sha256(plaintext) == key. */
  readChunk(plainHash: string, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * Streams the manifest's pack (if any) and hands over each object as soon as it arrived, was
   * checked against its store name and decrypted: (key, plaintext). Resolves when the pack ends.
   */
  readPack(onObject: (key: string, plain: Uint8Array<ArrayBuffer>) => void, signal?: AbortSignal): Promise<void>;
}

/** Parses the link and fetches only the manifest; chunks come later through readChunk. */
export async function openShare<T>(store: StoreClient, link: string, validate: CheckpointValidator<T>, signal?: AbortSignal): Promise<OpenedShare<T>> {
  const parsed = parseShareLink(link);
  if (!parsed.ok) throw parsed.error;
  const keys = await deriveShareKeys(parsed.link.key);
  const sealedManifest = await store.getManifest(parsed.link.manifest, signal);
  const manifest = await decodeShareManifest(keys, sealedManifest, parsed.link.manifest, validate);
  const readObject = async (key: string, objectSignal?: AbortSignal, priority?: "high" | "low"): Promise<Uint8Array<ArrayBuffer>> => {
    const name = Object.hasOwn(manifest.objects, key) ? manifest.objects[key] : undefined;
    if (name === undefined) throw shareErrors.damaged(`object ${key} is not in the share manifest`);
    const sealed = await store.getObject(name, { ...(objectSignal ? { signal: objectSignal } : {}), ...(priority ? { priority } : {}) });
    try {
      return await openSealed(keys, sealed, "object");
    } catch {
      throw shareErrors.damaged(`object ${name} does not decrypt`);
    }
  };
  const openObject = async (name: string, sealed: Uint8Array): Promise<Uint8Array<ArrayBuffer>> => {
    try {
      return await openSealed(keys, sealed, "object");
    } catch {
      throw shareErrors.damaged(`object ${name} does not decrypt`);
    }
  };
  return {
    manifest,
    readObject,
    async readPack(onObject, packSignal) {
      const pack = manifest.pack;
      if (!pack) return;
      const body = await store.getObjectStream(pack.name, { priority: "high", ...(packSignal ? { signal: packSignal } : {}) });
      const reader = body.getReader();
      let buffered: Uint8Array = new Uint8Array(0);
      let entry = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (value) buffered = buffered.byteLength === 0 ? value : concat(buffered, value);
        while (entry < pack.entries.length && buffered.byteLength >= pack.entries[entry][1]) {
          const [key, length] = pack.entries[entry++];
          const sealed = buffered.slice(0, length);
          buffered = buffered.subarray(length);
          const name = manifest.objects[key];
          if ((await sha256Hex(sealed)) !== name) throw shareErrors.damaged(`pack object for ${key} does not match its name`);
          onObject(key, await openObject(name, sealed));
        }
        if (done) break;
      }
      if (entry < pack.entries.length) throw shareErrors.damaged(`pack ${pack.name} ends early`);
    },
    async readChunk(plainHash, chunkSignal) {
      const plain = await readObject(plainHash, chunkSignal);
      if ((await sha256Hex(plain)) !== plainHash) throw shareErrors.damaged(`object for ${plainHash} has other content`);
      return plain;
    },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
