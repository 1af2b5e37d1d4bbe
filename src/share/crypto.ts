import { concatBytes, ownedBytes, toHex, utf8 } from "./encoding";

/**
 * Share encryption (see docs/sharing.md for the reasoning):
 *  - one random 256-bit share key per shared checkpoint, carried only in the link fragment;
 *  - HKDF-SHA256 derives an AES-256-GCM data key and an HMAC-SHA256 IV key from it;
 *  - IV = first 12 bytes of HMAC(ivKey, domain label || 0 || sha256(plaintext)), so the same
 *    content under the same key always seals to the same bytes (re-sharing uploads nothing),
 *    and a nonce only repeats when (domain, plaintext) repeat, i.e. when the output repeats;
 *  - sealed = IV || AES-GCM(ciphertext || tag) with the domain label as associated data;
 *  - store name = sha256(sealed), which the server can verify without the key.
 */

export const SHARE_KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

export type SealDomain = "object" | "manifest" | "pack";

const HKDF_SALT = utf8("snap86 share v1");
const INFO_DATA = utf8("snap86 object data");
const INFO_IV = utf8("snap86 object iv");

export interface ShareKeys {
  readonly data: CryptoKey;
  readonly iv: CryptoKey;
}

export interface SealedObject {
  /** Store name: sha256 hex of `bytes`. */
  readonly name: string;
  /** IV || ciphertext || GCM tag. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** sha256 hex of the plaintext, the key the share manifest maps to `name`. */
  readonly plainHash: string;
}

/** Thrown by openSealed; callers translate it into a user-facing ShareError by context. */
export class SealOpenFailure extends Error {
  override readonly name = "SealOpenFailure";

  constructor(readonly reason: "too-short" | "authentication") {
    super(`sealed object could not be opened: ${reason}`);
  }
}

function subtle(): SubtleCrypto {
  return globalThis.crypto.subtle;
}

export function generateShareKey(): Uint8Array<ArrayBuffer> {
  return globalThis.crypto.getRandomValues(new Uint8Array(SHARE_KEY_BYTES));
}

export async function deriveShareKeys(shareKey: Uint8Array): Promise<ShareKeys> {
  if (shareKey.byteLength !== SHARE_KEY_BYTES) throw new RangeError(`share key must be ${SHARE_KEY_BYTES} bytes`);
  const master = await subtle().importKey("raw", ownedBytes(shareKey), "HKDF", false, ["deriveKey"]);
  const hkdf = (info: Uint8Array<ArrayBuffer>): HkdfParams => ({ name: "HKDF", hash: "SHA-256", salt: HKDF_SALT, info });
  const [data, iv] = await Promise.all([
    subtle().deriveKey(hkdf(INFO_DATA), master, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]),
    subtle().deriveKey(hkdf(INFO_IV), master, { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]),
  ]);
  return { data, iv };
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await subtle().digest("SHA-256", ownedBytes(bytes)));
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(await sha256(bytes));
}

function domainLabel(domain: SealDomain): Uint8Array<ArrayBuffer> {
  return utf8(`snap86 ${domain} v1`);
}

export async function sealObject(keys: ShareKeys, plaintext: Uint8Array, domain: SealDomain = "object"): Promise<SealedObject> {
  const plain = ownedBytes(plaintext);
  const plainDigest = await sha256(plain);
  const label = domainLabel(domain);
  // The label is in the IV input too: the same plaintext sealed as "object" and as "manifest"
  // would otherwise reuse a nonce with different associated data, which leaks GCM's hash key.
  const mac = new Uint8Array(await subtle().sign("HMAC", keys.iv, concatBytes(label, new Uint8Array([0]), plainDigest)));
  const iv = mac.slice(0, IV_BYTES);
  const ciphertext = new Uint8Array(
    await subtle().encrypt({ name: "AES-GCM", iv, additionalData: label, tagLength: TAG_BYTES * 8 }, keys.data, plain),
  );
  const bytes = concatBytes(iv, ciphertext);
  return { name: await sha256Hex(bytes), bytes, plainHash: toHex(plainDigest) };
}

/** Decrypts and authenticates; throws SealOpenFailure (never returns unauthenticated bytes). */
export async function openSealed(keys: ShareKeys, sealed: Uint8Array, domain: SealDomain = "object"): Promise<Uint8Array<ArrayBuffer>> {
  if (sealed.byteLength < IV_BYTES + TAG_BYTES) throw new SealOpenFailure("too-short");
  const bytes = ownedBytes(sealed);
  try {
    const plain = await subtle().decrypt(
      { name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES), additionalData: domainLabel(domain), tagLength: TAG_BYTES * 8 },
      keys.data,
      bytes.subarray(IV_BYTES),
    );
    return new Uint8Array(plain);
  } catch (error) {
    throw Object.assign(new SealOpenFailure("authentication"), { cause: error });
  }
}
