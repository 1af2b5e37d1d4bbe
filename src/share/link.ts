import { SHARE_KEY_BYTES } from "./crypto";
import { fromBase64Url, SHA256_HEX, toBase64Url } from "./encoding";
import { shareErrors, type ShareError } from "./errors";

/**
 * A share link is `<app URL>#share=<manifest name>.<base64url share key>`. The fragment is
 * never sent to any server, which is what keeps the key away from the store.
 */
export interface ShareLink {
  /** Store name (sha256 hex) of the encrypted share manifest. */
  readonly manifest: string;
  /** 32-byte share key. */
  readonly key: Uint8Array;
}

export type ShareLinkResult = { readonly ok: true; readonly link: ShareLink } | { readonly ok: false; readonly error: ShareError };

const FRAGMENT_PREFIX = "share=";
const KEY_CHARS = Math.ceil((SHARE_KEY_BYTES * 8) / 6); // 43, unpadded
// Characters that mean "another parameter / another URL part follows": the link is malformed
// rather than merely carrying a bad key.
const STRUCTURAL = /[&=#?;\s]/;

/** The fragment text after '#', e.g. "share=<64 hex>.<43 base64url>". */
export function shareFragment(link: ShareLink): string {
  return `${FRAGMENT_PREFIX}${link.manifest}.${toBase64Url(link.key)}`;
}

/** Replaces any fragment of appUrl with the share fragment. */
export function buildShareLink(appUrl: string, link: ShareLink): string {
  if (!SHA256_HEX.test(link.manifest)) throw new RangeError("manifest name must be 64 lowercase hex characters");
  if (link.key.byteLength !== SHARE_KEY_BYTES) throw new RangeError(`share key must be ${SHARE_KEY_BYTES} bytes`);
  const hash = appUrl.indexOf("#");
  return `${hash < 0 ? appUrl : appUrl.slice(0, hash)}#${shareFragment(link)}`;
}

/**
 * Accepts a full link, a "#share=..." hash, never anything looser: no case folding, padding,
 * whitespace trimming, extra parameters, or alternative base64 alphabets, so a valid link has
 * exactly one spelling and shareFragment(parse(x).link) === the fragment of x. Never throws.
 */
export function parseShareLink(input: unknown): ShareLinkResult {
  if (typeof input !== "string") return fail(shareErrors.linkMalformed());
  const hash = input.indexOf("#");
  if (hash < 0) return fail(shareErrors.linkMalformed());
  const fragment = input.slice(hash + 1);
  if (!fragment.startsWith(FRAGMENT_PREFIX)) return fail(shareErrors.linkMalformed());
  const body = fragment.slice(FRAGMENT_PREFIX.length);
  const dot = body.indexOf(".");
  if (dot < 0) return fail(shareErrors.linkMalformed());
  const manifest = body.slice(0, dot);
  const keyText = body.slice(dot + 1);
  if (!SHA256_HEX.test(manifest) || STRUCTURAL.test(keyText)) return fail(shareErrors.linkMalformed());
  if (keyText.length !== KEY_CHARS) return fail(shareErrors.linkKeyInvalid());
  const key = fromBase64Url(keyText);
  if (!key || key.byteLength !== SHARE_KEY_BYTES) return fail(shareErrors.linkKeyInvalid());
  return { ok: true, link: { manifest, key } };
}

function fail(error: ShareError): ShareLinkResult {
  return { ok: false, error };
}
