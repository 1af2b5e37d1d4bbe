import { deriveShareKeys, generateShareKey, openSealed, sealObject, sha256Hex, type SealedObject } from "./crypto";
import { shareErrors } from "./errors";
import { buildShareLink, parseShareLink } from "./link";
import { decodeShareManifest, encodeShareManifest, type BaseImageIdentity, type CheckpointValidator, type ShareManifest } from "./manifest-codec";
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
}

export interface PublishedShare {
  readonly link: string;
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
  const progress = await store.uploadObjects(sealed, options);
  const manifest = await encodeShareManifest(keys, { checkpoint: input.checkpoint, objects, base: input.base });
  await store.putManifest(manifest.name, manifest.bytes, options.signal);
  return {
    link: buildShareLink(input.appUrl, { manifest: manifest.name, key: shareKey }),
    shareKey,
    manifestName: manifest.name,
    progress,
  };
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
  return {
    manifest,
    readObject,
    async readChunk(plainHash, chunkSignal) {
      const plain = await readObject(plainHash, chunkSignal);
      if ((await sha256Hex(plain)) !== plainHash) throw shareErrors.damaged(`object for ${plainHash} has other content`);
      return plain;
    },
  };
}
