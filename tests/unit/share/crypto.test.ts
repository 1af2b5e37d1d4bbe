import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  deriveShareKeys,
  generateShareKey,
  IV_BYTES,
  openSealed,
  SealOpenFailure,
  sealObject,
  SHARE_KEY_BYTES,
  TAG_BYTES,
} from "../../../src/share/crypto";
import { mulberry32 } from "./prng";

const sha = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("share crypto", () => {
  it("generates distinct 32-byte keys", () => {
    const a = generateShareKey();
    const b = generateShareKey();
    expect(a.byteLength).toBe(SHARE_KEY_BYTES);
    expect(a).not.toEqual(b);
  });

  it("round-trips, names objects by sha256 of the sealed bytes, and hides the plaintext", async () => {
    const keys = await deriveShareKeys(generateShareKey());
    const plain = mulberry32(1).bytes(5000);
    const sealed = await sealObject(keys, plain);
    expect(sealed.bytes.byteLength).toBe(plain.byteLength + IV_BYTES + TAG_BYTES);
    expect(sealed.name).toBe(sha(sealed.bytes));
    expect(sealed.plainHash).toBe(sha(plain));
    expect(Buffer.from(sealed.bytes).includes(Buffer.from(plain.subarray(0, 32)))).toBe(false);
    expect(await openSealed(keys, sealed.bytes)).toEqual(plain);
  });

  it("round-trips an empty plaintext", async () => {
    const keys = await deriveShareKeys(generateShareKey());
    const sealed = await sealObject(keys, new Uint8Array(0));
    expect(await openSealed(keys, sealed.bytes)).toEqual(new Uint8Array(0));
  });

  it("fails to open with another key", async () => {
    const sealed = await sealObject(await deriveShareKeys(generateShareKey()), text("secret"));
    const other = await deriveShareKeys(generateShareKey());
    await expect(openSealed(other, sealed.bytes)).rejects.toMatchObject({ reason: "authentication" });
  });

  it("detects a flipped bit anywhere (IV, ciphertext, tag) and truncation", async () => {
    const keys = await deriveShareKeys(generateShareKey());
    const sealed = await sealObject(keys, text("tamper with me, if you can"));
    for (let at = 0; at < sealed.bytes.byteLength; at++) {
      const bad = sealed.bytes.slice();
      bad[at] ^= 0x01;
      await expect(openSealed(keys, bad), `byte ${at}`).rejects.toBeInstanceOf(SealOpenFailure);
    }
    for (let length = 0; length < sealed.bytes.byteLength; length++) {
      await expect(openSealed(keys, sealed.bytes.slice(0, length)), `length ${length}`).rejects.toBeInstanceOf(SealOpenFailure);
    }
  });

  it("binds the domain: an object cannot be opened as a manifest", async () => {
    const keys = await deriveShareKeys(generateShareKey());
    const asObject = await sealObject(keys, text("{}"), "object");
    const asManifest = await sealObject(keys, text("{}"), "manifest");
    await expect(openSealed(keys, asObject.bytes, "manifest")).rejects.toBeInstanceOf(SealOpenFailure);
    // Different IVs too: same key + same IV with different associated data would leak GCM's hash key.
    expect(asObject.bytes.subarray(0, IV_BYTES)).not.toEqual(asManifest.bytes.subarray(0, IV_BYTES));
  });

  it("is deterministic per (key, content) so re-sharing with the kept key reproduces every name", async () => {
    const shareKey = generateShareKey();
    const plain = mulberry32(2).bytes(1000);
    const first = await sealObject(await deriveShareKeys(shareKey), plain);
    const again = await sealObject(await deriveShareKeys(Uint8Array.from(shareKey)), plain);
    expect(again.name).toBe(first.name);
    expect(again.bytes).toEqual(first.bytes);
  });

  it("gives unlinkable names across keys and distinct IVs across contents", async () => {
    const plain = text("same checkpoint chunk");
    const a = await sealObject(await deriveShareKeys(generateShareKey()), plain);
    const b = await sealObject(await deriveShareKeys(generateShareKey()), plain);
    expect(a.name).not.toBe(b.name);
    expect(a.plainHash).toBe(b.plainHash); // only inside the encrypted manifest
    const keys = await deriveShareKeys(generateShareKey());
    const ivs = new Set<string>();
    for (let i = 0; i < 200; i++) ivs.add(sha((await sealObject(keys, text(`chunk ${i}`))).bytes.subarray(0, IV_BYTES)));
    expect(ivs.size).toBe(200);
  });

  it("refuses keys of the wrong size", async () => {
    await expect(deriveShareKeys(new Uint8Array(31))).rejects.toBeInstanceOf(RangeError);
  });
});
