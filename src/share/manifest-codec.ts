import { IV_BYTES, openSealed, sealObject, sha256Hex, TAG_BYTES, type SealedObject, type ShareKeys } from "./crypto";
import { SHA256_HEX } from "./encoding";
import { ShareError, shareErrors } from "./errors";
import { validateImages, type SharedImage } from "./shared-images";

/**
 * 2: the pack holds working-set pages in sealed parts (1 had whole objects). 3: a user's machine:
 * `images` (its drives' images) instead of `base`. Each envelope is written with the lowest
 * version that has its fields, so links of the built-in guest stay 2; both are read.
 */
export const SHARE_MANIFEST_VERSION = 3;
export const SHARE_MANIFEST_VERSIONS: readonly number[] = [2, 3];
export type ShareManifestVersion = 2 | 3;

/** The disk image the checkpoint runs on; shared by reference, never uploaded. */
export interface BaseImageIdentity {
  readonly url: string;
  readonly sha256: string;
  readonly size: number;
}

/**
 * What a share link's manifest decrypts to. `checkpoint` is the checkpoint manifest, opaque
 * here and checked by the caller's validator; `objects` maps each plaintext chunk sha256 to
 * the store name of its sealed copy. Exactly one of `base` (version 2: the built-in guest's disk,
 * by reference) and `images` (version 3: a user's drives, src/share/shared-images.ts) is there.
 */
export interface ShareManifest<T> {
  readonly version: ShareManifestVersion;
  readonly checkpoint: T;
  readonly objects: Readonly<Record<string, string>>;
  readonly base?: BaseImageIdentity;
  readonly images?: readonly SharedImage[];
  /** Optional: what an opener needs first, in one request (its parts' plaintext is the app's). */
  readonly pack?: SharePack;
}

/** `name` is a store object holding, back to back, parts sealed in the "pack" domain, of `parts` bytes each. */
export interface SharePack {
  readonly name: string;
  readonly parts: readonly number[];
}

export type CheckpointValidator<T> = (value: unknown) => value is T;

const MAX_URL_LENGTH = 4096;
/** The envelope's fields by version (sorted), "pack" being optional in both. */
const TOP_LEVEL_KEYS: Record<ShareManifestVersion, readonly string[]> = { 2: ["base", "checkpoint", "objects", "version"], 3: ["checkpoint", "images", "objects", "version"] };
const MAX_PACK_PARTS = 65536;
/** Writers make parts of 32 pages (128 KiB raw) and packs of at most 4 MiB (src/share/page-pack.ts); room to spare. */
const MAX_PACK_PART_BYTES = 1024 * 1024;
const MAX_PACK_SEALED_BYTES = 8 * 1024 * 1024;

export async function encodeShareManifest<T>(keys: ShareKeys, manifest: Omit<ShareManifest<T>, "version">): Promise<SealedObject> {
  const { base, images } = manifest;
  const envelope: ShareManifest<T> = {
    version: images ? 3 : 2,
    checkpoint: manifest.checkpoint,
    objects: manifest.objects,
    ...(images ? { images } : base ? { base: { url: base.url, sha256: base.sha256, size: base.size } } : {}),
    ...(manifest.pack ? { pack: manifest.pack } : {}),
  };
  // Refuse to publish what we would refuse to open.
  validateEnvelope(envelope, (value): value is T => value === manifest.checkpoint);
  return sealObject(keys, new TextEncoder().encode(JSON.stringify(envelope)), "manifest");
}

/**
 * Verifies, decrypts and validates a sealed manifest fetched under `expectedName`. Because the
 * bytes are first checked against their content address, a GCM failure on intact bytes can
 * only mean the key is wrong, so the two failures get different messages. Throws ShareError only.
 */
export async function decodeShareManifest<T>(
  keys: ShareKeys,
  sealed: Uint8Array,
  expectedName: string,
  validateCheckpoint: CheckpointValidator<T>,
): Promise<ShareManifest<T>> {
  if ((await sha256Hex(sealed)) !== expectedName) throw shareErrors.damaged("manifest bytes do not match their name");
  let plain: Uint8Array;
  try {
    plain = await openSealed(keys, sealed, "manifest");
  } catch {
    // Includes "too short": intact bytes that cannot even hold an IV and tag were never ours.
    throw shareErrors.wrongKey();
  }
  return parseShareManifest(plain, validateCheckpoint);
}

/** Plaintext half of decodeShareManifest, exposed for fuzzing. Throws ShareError only. */
export function parseShareManifest<T>(plain: Uint8Array, validateCheckpoint: CheckpointValidator<T>): ShareManifest<T> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plain));
  } catch {
    throw shareErrors.damaged("manifest is not UTF-8 JSON");
  }
  if (isRecord(value) && !SHARE_MANIFEST_VERSIONS.includes(value.version as number)) throw shareErrors.unknownVersion(value.version);
  return validateEnvelope(value, validateCheckpoint);
}

function validateEnvelope<T>(value: unknown, validateCheckpoint: CheckpointValidator<T>): ShareManifest<T> {
  const damaged = (what: string): ShareError => shareErrors.damaged(`manifest ${what} is invalid`);
  if (!isRecord(value)) throw damaged("envelope");
  const version = value.version as ShareManifestVersion;
  if (!SHARE_MANIFEST_VERSIONS.includes(version)) throw shareErrors.unknownVersion(value.version);
  const keys = Object.keys(value).sort();
  const expected = TOP_LEVEL_KEYS[version].concat(keys.includes("pack") ? ["pack"] : []).sort();
  if (keys.length !== expected.length || keys.some((k, i) => k !== expected[i])) throw damaged("field set");
  const { checkpoint, objects, base } = value;
  let checkpointOk = false;
  try {
    checkpointOk = isRecord(checkpoint) && validateCheckpoint(checkpoint);
  } catch {
    checkpointOk = false; // a throwing validator is as good as a "no"
  }
  if (!checkpointOk) throw damaged("checkpoint");
  if (!isRecord(objects)) throw damaged("object map");
  // Null prototype: hex keys cannot collide with Object.prototype, but lookups stay honest.
  const objectMap: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [plainHash, name] of Object.entries(objects)) {
    if (!SHA256_HEX.test(plainHash) || typeof name !== "string" || !SHA256_HEX.test(name)) throw damaged("object map");
    objectMap[plainHash] = name;
  }
  const pack = value.pack === undefined ? undefined : validatePack(value.pack);
  if (value.pack !== undefined && !pack) throw damaged("pack");
  const rest = { checkpoint: checkpoint as T, objects: objectMap, ...(pack ? { pack } : {}) };
  if (version === 3) {
    const images = validateImages(value.images, objectMap);
    if (!images) throw damaged("images");
    return { version, ...rest, images };
  }
  return { version, ...rest, base: validateBase(base, damaged) };
}

function validateBase(base: unknown, damaged: (what: string) => ShareError): BaseImageIdentity {
  if (!isRecord(base) || Object.keys(base).length !== 3) throw damaged("base image");
  const { url, sha256, size } = base;
  if (typeof url !== "string" || url.length === 0 || url.length > MAX_URL_LENGTH) throw damaged("base image url");
  if (typeof sha256 !== "string" || !SHA256_HEX.test(sha256)) throw damaged("base image sha256");
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw damaged("base image size");
  return { url, sha256, size };
}

function validatePack(value: unknown): SharePack | undefined {
  if (!isRecord(value) || Object.keys(value).length !== 2) return undefined;
  const { name, parts } = value;
  if (typeof name !== "string" || !SHA256_HEX.test(name) || !Array.isArray(parts) || parts.length === 0 || parts.length > MAX_PACK_PARTS) return undefined;
  // Each part is at least a GCM IV and tag: anything shorter cannot be one.
  if (!parts.every((n) => Number.isSafeInteger(n) && (n as number) > IV_BYTES + TAG_BYTES && (n as number) <= MAX_PACK_PART_BYTES)) return undefined;
  // The opener holds the pack while it streams: its size is bounded here, not by the store.
  if ((parts as number[]).reduce((sum, n) => sum + n, 0) > MAX_PACK_SEALED_BYTES) return undefined;
  return { name, parts: parts as number[] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
