import { deriveShareKeys, generateShareKey, openSealed, sealObject, sha256Hex, type SealedObject } from "./crypto";
import { shareErrors } from "./errors";
import { buildShareLink, parseShareLink } from "./link";
import { decodeShareManifest, encodeShareManifest, type BaseImageIdentity, type CheckpointValidator, type ShareManifest } from "./manifest-codec";
import type { StoreClient, UploadOptions, UploadProgress } from "./store-client";

export interface PublishInput<T> {
  readonly appUrl: string;
  /** Checkpoint manifest; must reference its chunks by plaintext sha256. */
  readonly checkpoint: T;
  readonly chunks: readonly Uint8Array[];
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
  for (const chunk of input.chunks) sealed.push(await sealObject(keys, chunk));
  const objects: Record<string, string> = {};
  for (const item of sealed) objects[item.plainHash] = item.name;
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
  /** Fetches, verifies and decrypts one chunk on demand (lazy restore). */
  readChunk(plainHash: string, signal?: AbortSignal): Promise<Uint8Array>;
}

/** Parses the link and fetches only the manifest; chunks come later through readChunk. */
export async function openShare<T>(store: StoreClient, link: string, validate: CheckpointValidator<T>, signal?: AbortSignal): Promise<OpenedShare<T>> {
  const parsed = parseShareLink(link);
  if (!parsed.ok) throw parsed.error;
  const keys = await deriveShareKeys(parsed.link.key);
  const sealedManifest = await store.getManifest(parsed.link.manifest, signal);
  const manifest = await decodeShareManifest(keys, sealedManifest, parsed.link.manifest, validate);
  return {
    manifest,
    async readChunk(plainHash, chunkSignal) {
      const name = Object.hasOwn(manifest.objects, plainHash) ? manifest.objects[plainHash] : undefined;
      if (name === undefined) throw shareErrors.damaged(`chunk ${plainHash} is not in the share manifest`);
      const sealed = await store.getObject(name, { signal: chunkSignal });
      let plain: Uint8Array;
      try {
        plain = await openSealed(keys, sealed, "object");
      } catch {
        throw shareErrors.damaged(`object ${name} does not decrypt`);
      }
      if ((await sha256Hex(plain)) !== plainHash) throw shareErrors.damaged(`object ${name} is not chunk ${plainHash}`);
      return plain;
    },
  };
}
