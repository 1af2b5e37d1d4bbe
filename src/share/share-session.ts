import { deriveShareKeys, generateShareKey, openSealed, sealObject, sha256Hex, type SealedObject, type ShareKeys } from "./crypto";
import { shareErrors } from "./errors";
import { buildShareLink, parseShareLink } from "./link";
import { decodeShareManifest, encodeShareManifest, type BaseImageIdentity, type CheckpointValidator, type ShareManifest, type SharePack } from "./manifest-codec";
import type { StoreClient, UploadOptions, UploadProgress } from "./store-client";
import type { SharedImage } from "./shared-images";

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
  /** The built-in guest's disk, by reference (envelope version 2)... */
  readonly base?: BaseImageIdentity;
  /** ...or a user's drives' images (version 3). */
  readonly images?: readonly SharedImage[];
  /** Pass the key kept from an earlier share of this checkpoint to re-upload nothing. */
  readonly shareKey?: Uint8Array;
  /**
   * What an opener wants first, in that order (the app's page-pack parts): each part sealed in
   * the "pack" domain, all uploaded back to back as one object.
   */
  readonly packParts?: readonly Uint8Array[];
}

export interface PublishedShare {
  readonly link: string;
  /** Bytes of the pack object (counted in progress too): the working set's pages, in one object. */
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
  const packed = input.packParts && input.packParts.length > 0 ? await sealedPack(keys, input.packParts) : undefined;
  const progress = await store.uploadObjects(packed ? [...sealed, packed.object] : sealed, options);
  const manifest = await encodeShareManifest(keys, { checkpoint: input.checkpoint, objects, ...(input.images ? { images: input.images } : { base: input.base }), ...(packed ? { pack: packed.pack } : {}) });
  await store.putManifest(manifest.name, manifest.bytes, options.signal);
  return {
    link: buildShareLink(input.appUrl, { manifest: manifest.name, key: shareKey }),
    packBytes: packed?.object.bytes.byteLength ?? 0,
    shareKey,
    manifestName: manifest.name,
    progress,
  };
}

/** The parts sealed one by one (so an opener can use each as it arrives), back to back. */
async function sealedPack(keys: ShareKeys, plaintexts: readonly Uint8Array[]): Promise<{ object: SealedObject; pack: SharePack }> {
  const parts = await Promise.all(plaintexts.map((p) => sealObject(keys, p, "pack")));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.bytes.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p.bytes, at);
    at += p.bytes.byteLength;
  }
  const name = await sha256Hex(bytes);
  return { object: { name, bytes, plainHash: name }, pack: { name, parts: parts.map((p) => p.bytes.byteLength) } };
}

/** Reads a share's objects: the keys and object map of a link that was opened (once). */
export interface ShareReader {
  /**
   * Fetches one object by key: checked against its store name, then decrypted and authenticated.
   * The caller still checks the content against `key` (it knows the plaintext's encoding).
   */
  /** `maxBytes` bounds the sealed object (the caller knows its chunk or block size). */
  readObject(key: string, signal?: AbortSignal, priority?: "high" | "low", maxBytes?: number): Promise<Uint8Array<ArrayBuffer>>;
  /** readObject for objects whose plaintext is the content: also checks sha256(plaintext) == key. */
  readChunk(plainHash: string, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * Streams the manifest's pack (if any) and hands over each part's plaintext as soon as it
   * arrived and was decrypted and authenticated. Resolves when the pack ends; rejects with
   * ShareError on a part that fails (the parts before it were handed over).
   */
  readPack(onPart: (plain: Uint8Array<ArrayBuffer>) => void | Promise<void>, signal?: AbortSignal): Promise<void>;
}

export interface OpenedShare<T> extends ShareReader {
  readonly manifest: ShareManifest<T>;
  /** Derived from the link's key: with `manifest`, what shareReader needs to read on elsewhere. */
  readonly keys: ShareKeys;
}

/** Parses the link and fetches only the manifest; chunks come later through readChunk. */
export async function openShare<T>(store: StoreClient, link: string, validate: CheckpointValidator<T>, signal?: AbortSignal): Promise<OpenedShare<T>> {
  const parsed = parseShareLink(link);
  if (!parsed.ok) throw parsed.error;
  const keys = await deriveShareKeys(parsed.link.key);
  const sealedManifest = await store.getManifest(parsed.link.manifest, signal);
  const manifest = await decodeShareManifest(keys, sealedManifest, parsed.link.manifest, validate);
  return { manifest, keys, ...shareReader(store, keys, manifest) };
}

/**
 * The objects of a share opened before, perhaps in another worker (its keys and its decrypted
 * manifest's object map and pack): nothing is parsed, fetched or decrypted again.
 */
export function shareReader(store: StoreClient, keys: ShareKeys, manifest: Pick<ShareManifest<unknown>, "objects" | "pack">): ShareReader {
  const readObject = async (key: string, objectSignal?: AbortSignal, priority?: "high" | "low", maxBytes?: number): Promise<Uint8Array<ArrayBuffer>> => {
    const name = Object.hasOwn(manifest.objects, key) ? manifest.objects[key] : undefined;
    if (name === undefined) throw shareErrors.damaged(`object ${key} is not in the share manifest`);
    const sealed = await store.getObject(name, { ...(objectSignal ? { signal: objectSignal } : {}), ...(priority ? { priority } : {}), ...(maxBytes !== undefined ? { maxBytes } : {}) });
    try {
      return await openSealed(keys, sealed, "object");
    } catch {
      throw shareErrors.damaged(`object ${name} does not decrypt`);
    }
  };
  const openPart = async (name: string, index: number, sealed: Uint8Array): Promise<Uint8Array<ArrayBuffer>> => {
    try {
      return await openSealed(keys, sealed, "pack");
    } catch {
      throw shareErrors.damaged(`part ${index} of pack ${name} does not decrypt`);
    }
  };
  return {
    readObject,
    async readPack(onPart, packSignal) {
      const pack = manifest.pack;
      if (!pack) return;
      const body = await store.getObjectStream(pack.name, { priority: "high", ...(packSignal ? { signal: packSignal } : {}) });
      const reader = body.getReader();
      // The manifest says how long the pack is; the store (maybe hostile) decides what it sends.
      // Bytes past that length are refused as they arrive, and each part is assembled once from
      // the pieces that hold it, so memory and copying stay linear in the pack's stated size.
      const expected = pack.parts.reduce((n, length) => n + length, 0);
      const wrongLength = () => shareErrors.damaged(`pack ${pack.name} is not the length its manifest says`);
      const assembler = new PartAssembler();
      let received = 0;
      let part = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (value) {
          received += value.byteLength;
          if (received > expected) {
            await reader.cancel().catch(() => undefined);
            throw wrongLength();
          }
          assembler.push(value);
        }
        while (part < pack.parts.length && assembler.size >= pack.parts[part]) {
          const sealed = assembler.take(pack.parts[part++]);
          // The GCM tag under the share key authenticates each part as it arrives (the pack's
          // name could only be checked once all of it is here).
          await onPart(await openPart(pack.name, part - 1, sealed));
        }
        if (done) break;
      }
      if (part < pack.parts.length || assembler.size > 0) throw wrongLength();
    },
    async readChunk(plainHash, chunkSignal) {
      const plain = await readObject(plainHash, chunkSignal);
      if ((await sha256Hex(plain)) !== plainHash) throw shareErrors.damaged(`object for ${plainHash} has other content`);
      return plain;
    },
  };
}

/** Pieces of a stream, taken off the front in lengths of one's choosing, each byte copied once. */
class PartAssembler {
  private pieces: Uint8Array[] = [];
  private offset = 0; // into pieces[0]
  size = 0;

  push(piece: Uint8Array): void {
    this.pieces.push(piece);
    this.size += piece.byteLength;
  }

  take(length: number): Uint8Array {
    const out = new Uint8Array(length);
    let at = 0;
    while (at < length) {
      const head = this.pieces[0];
      const n = Math.min(length - at, head.byteLength - this.offset);
      out.set(head.subarray(this.offset, this.offset + n), at);
      at += n;
      this.offset += n;
      if (this.offset === head.byteLength) {
        this.pieces.shift();
        this.offset = 0;
      }
    }
    this.size -= length;
    return out;
  }
}
