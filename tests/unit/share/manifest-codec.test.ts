import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { deriveShareKeys, generateShareKey, sealObject, type ShareKeys } from "../../../src/share/crypto";
import { ShareError } from "../../../src/share/errors";
import {
  decodeShareManifest,
  encodeShareManifest,
  parseShareManifest,
  SHARE_MANIFEST_VERSION,
  type CheckpointValidator,
} from "../../../src/share/manifest-codec";
import { mulberry32, mutateBytes, mutateString, randomString } from "./prng";

interface TestCheckpoint {
  format: "test";
  pages: string[];
}
const isTestCheckpoint: CheckpointValidator<TestCheckpoint> = (value): value is TestCheckpoint =>
  typeof value === "object" &&
  value !== null &&
  (value as { format?: unknown }).format === "test" &&
  Array.isArray((value as { pages?: unknown }).pages) &&
  (value as { pages: unknown[] }).pages.every((p) => typeof p === "string");

const sha = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex");
const plainHashes = [sha("page 0"), sha("page 1"), sha("page 2")];
const CONTENT = {
  checkpoint: { format: "test" as const, pages: plainHashes },
  objects: Object.fromEntries(plainHashes.map((h) => [h, sha(`sealed ${h}`)])),
  base: { url: "/guest/freedos.img", sha256: sha("base image"), size: 1_474_560 },
};

let keys: ShareKeys;
let sealed: { name: string; bytes: Uint8Array<ArrayBuffer> };

beforeAll(async () => {
  keys = await deriveShareKeys(generateShareKey());
  sealed = await encodeShareManifest(keys, CONTENT);
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "accepted";
  } catch (error) {
    if (!(error instanceof ShareError)) throw new Error(`untyped error: ${String(error)}`);
    return error.code;
  }
}

async function sealPlain(text: string): Promise<{ name: string; bytes: Uint8Array }> {
  return sealObject(keys, new TextEncoder().encode(text), "manifest");
}

describe("share manifest codec", () => {
  it("round-trips", async () => {
    const decoded = await decodeShareManifest(keys, sealed.bytes, sealed.name, isTestCheckpoint);
    expect(decoded.version).toBe(2); // the built-in guest's links stay version 2
    expect(decoded.checkpoint).toEqual(CONTENT.checkpoint);
    expect({ ...decoded.objects }).toEqual(CONTENT.objects);
    expect(decoded.base).toEqual(CONTENT.base);
  });

  it("is deterministic for re-sharing with the same key", async () => {
    expect((await encodeShareManifest(keys, CONTENT)).name).toBe(sealed.name);
  });

  it("reports a wrong key", async () => {
    const other = await deriveShareKeys(generateShareKey());
    await expect(decodeShareManifest(other, sealed.bytes, sealed.name, isTestCheckpoint)).rejects.toMatchObject({
      code: "wrong-key",
      message: "This link's key does not open this checkpoint",
    });
  });

  it("reports tampering and truncation as damage", async () => {
    const flipped = sealed.bytes.slice();
    flipped[20] ^= 4;
    for (const bad of [flipped, sealed.bytes.slice(0, -1), sealed.bytes.slice(0, 5)]) {
      await expect(decodeShareManifest(keys, bad, sealed.name, isTestCheckpoint)).rejects.toMatchObject({
        code: "damaged",
        message: "The shared checkpoint is damaged (integrity check failed)",
      });
    }
  });

  it("reports a link made in share format 1 (whole objects in the pack) as an unknown version", async () => {
    const old = await sealPlain(JSON.stringify({ ...CONTENT, version: 1, pack: { name: sha("p"), entries: [[plainHashes[0], 100]] } }));
    await expect(decodeShareManifest(keys, old.bytes, old.name, isTestCheckpoint)).rejects.toMatchObject({ code: "unknown-version" });
  });

  it("accepts a pack of sealed parts", async () => {
    const ok = await sealPlain(JSON.stringify({ ...CONTENT, version: 2, pack: { name: sha("p"), parts: [100, 29] } }));
    expect((await decodeShareManifest(keys, ok.bytes, ok.name, isTestCheckpoint)).pack).toEqual({ name: sha("p"), parts: [100, 29] });
  });

  it("reports an unknown version", async () => {
    const future = await sealPlain(JSON.stringify({ ...CONTENT, version: SHARE_MANIFEST_VERSION + 1, extra: true }));
    await expect(decodeShareManifest(keys, future.bytes, future.name, isTestCheckpoint)).rejects.toMatchObject({
      code: "unknown-version",
    });
  });

  it.each([
    ["checkpoint refused by the validator", { ...CONTENT, version: 2, checkpoint: { format: "other" } }],
    ["checkpoint not an object", { ...CONTENT, version: 2, checkpoint: [] }],
    ["bad object name", { ...CONTENT, version: 2, objects: { [plainHashes[0]]: "../x" } }],
    ["bad object key", { ...CONTENT, version: 2, objects: { __proto__x: sha("a") } }],
    ["bad base hash", { ...CONTENT, version: 2, base: { ...CONTENT.base, sha256: "00" } }],
    ["negative size", { ...CONTENT, version: 2, base: { ...CONTENT.base, size: -1 } }],
    ["extra base field", { ...CONTENT, version: 2, base: { ...CONTENT.base, x: 1 } }],
    ["extra field", { ...CONTENT, version: 2, extra: 1 }],
    ["missing field", { version: 2, checkpoint: CONTENT.checkpoint, objects: CONTENT.objects }],
    ["pack without parts", { ...CONTENT, version: 2, pack: { name: sha("p"), parts: [] } }],
    ["pack part shorter than a GCM IV and tag", { ...CONTENT, version: 2, pack: { name: sha("p"), parts: [100, 28] } }],
    ["pack with a bad name", { ...CONTENT, version: 2, pack: { name: "../p", parts: [100] } }],
    ["pack with an extra field", { ...CONTENT, version: 2, pack: { name: sha("p"), parts: [100], entries: [] } }],
    ["pack part not an integer", { ...CONTENT, version: 2, pack: { name: sha("p"), parts: [100.5] } }],
  ])("refuses an authentic manifest with %s as damaged", async (_label, envelope) => {
    const bad = await sealPlain(JSON.stringify(envelope));
    expect(await codeOf(decodeShareManifest(keys, bad.bytes, bad.name, isTestCheckpoint))).toBe("damaged");
  });

  it("treats a throwing validator as a refusal", async () => {
    const throwing = (_: unknown): _ is TestCheckpoint => {
      throw new Error("validator bug");
    };
    expect(await codeOf(decodeShareManifest(keys, sealed.bytes, sealed.name, throwing))).toBe("damaged");
  });

  it("refuses to encode what it would refuse to decode", async () => {
    await expect(encodeShareManifest(keys, { ...CONTENT, base: { ...CONTENT.base, sha256: "nope" } })).rejects.toBeInstanceOf(ShareError);
  });
});

describe("share manifest decoder fuzz", () => {
  it("1500 mutated sealed manifests: never accepted, only typed errors", async () => {
    const rng = mulberry32(3003);
    const codes = new Map<string, number>();
    for (let i = 0; i < 1500; i++) {
      let bad: Uint8Array = sealed.bytes;
      const rounds = 1 + rng.int(3);
      for (let r = 0; r < rounds; r++) bad = mutateBytes(rng, bad);
      if (Buffer.from(bad).equals(Buffer.from(sealed.bytes))) continue;
      // Half the time the attacker also rewrites the link's name to match the mutated bytes,
      // which bypasses the content address and leaves GCM alone to catch it.
      const name = rng.next() < 0.5 ? sealed.name : sha(bad);
      const code = await codeOf(decodeShareManifest(keys, bad, name, isTestCheckpoint));
      expect(code, `mutation ${i}`).not.toBe("accepted");
      expect(code).toBe(name === sealed.name ? "damaged" : "wrong-key");
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(codes.get("damaged")).toBeGreaterThan(300);
    expect(codes.get("wrong-key")).toBeGreaterThan(300);
  });

  it("1000 random byte strings: never accepted, only typed errors", async () => {
    const rng = mulberry32(4004);
    for (let i = 0; i < 1000; i++) {
      const bytes = rng.bytes(rng.int(200));
      const name = rng.next() < 0.5 ? sha(bytes) : sealed.name;
      expect(await codeOf(decodeShareManifest(keys, bytes, name, isTestCheckpoint))).not.toBe("accepted");
    }
  });

  it("2000 mutated or random plaintexts (authentic but malformed): only typed errors, accepted ones are valid", () => {
    const rng = mulberry32(5005);
    const original = JSON.stringify({ version: 2, ...CONTENT });
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      let text = original;
      if (i % 4 === 0) text = randomString(rng, 300);
      else for (let r = 1 + rng.int(3); r > 0; r--) text = mutateString(rng, text);
      let result;
      try {
        result = parseShareManifest(new TextEncoder().encode(text), isTestCheckpoint);
      } catch (error) {
        if (!(error instanceof ShareError)) throw new Error(`untyped error on ${JSON.stringify(text)}: ${String(error)}`);
        expect(["damaged", "unknown-version"]).toContain(error.code);
        continue;
      }
      accepted++;
      // Whatever gets through must satisfy every rule the decoder promises.
      expect(isTestCheckpoint(result.checkpoint)).toBe(true);
      for (const [k, v] of Object.entries(result.objects)) {
        expect(k).toMatch(/^[0-9a-f]{64}$/);
        expect(v).toMatch(/^[0-9a-f]{64}$/);
      }
      expect(result.base?.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(Number.isSafeInteger(result.base?.size) && (result.base?.size ?? -1) >= 0).toBe(true);
    }
    expect(accepted).toBeGreaterThan(0); // some mutations (e.g. inside the url) stay valid
  });
});
