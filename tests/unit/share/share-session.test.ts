import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShareError } from "../../../src/share/errors";
import { parseShareLink } from "../../../src/share/link";
import type { CheckpointValidator } from "../../../src/share/manifest-codec";
import { openShare, publishShare, rawObjects } from "../../../src/share/share-session";
import { StoreClient } from "../../../src/share/store-client";
import { mulberry32, mutateString } from "./prng";
import { startStore, type RunningStore } from "./store-fixture";

interface Checkpoint {
  chunks: string[];
}
const isCheckpoint: CheckpointValidator<Checkpoint> = (v): v is Checkpoint =>
  Array.isArray((v as { chunks?: unknown }).chunks) && (v as { chunks: unknown[] }).chunks.every((c) => typeof c === "string");
const sha = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

const rng = mulberry32(99);
const chunks = Array.from({ length: 6 }, (_, i) => rng.bytes(4096 + i));
const input = {
  appUrl: "http://localhost:5173/",
  checkpoint: { chunks: chunks.map(sha) },
  objects: await rawObjects(chunks),
  base: { url: "/guest/base.img", sha256: "cd".repeat(32), size: 1 << 20 },
};

let store: RunningStore;
let client: StoreClient;
beforeAll(async () => {
  store = await startStore();
  client = new StoreClient({ baseUrl: store.baseUrl });
});
afterAll(async () => {
  await store.stop();
});

describe("publish and open a share", () => {
  it("round-trips through the store, lazily, and a re-share with the kept key uploads nothing", async () => {
    const first = await publishShare(client, input);
    expect(first.progress).toMatchObject({ totalObjects: 6, uploadedObjects: 6, skippedObjects: 0, skippedBytes: 0 });
    expect(first.link.startsWith(`${input.appUrl}#share=${first.manifestName}.`)).toBe(true);

    const opened = await openShare(client, first.link, isCheckpoint);
    expect(opened.manifest.checkpoint).toEqual(input.checkpoint);
    expect(opened.manifest.base).toEqual(input.base);
    expect(await opened.readChunk(sha(chunks[3]))).toEqual(chunks[3]);
    await expect(opened.readChunk("00".repeat(32))).rejects.toMatchObject({ code: "damaged" });

    const again = await publishShare(client, { ...input, shareKey: first.shareKey });
    expect(again.progress).toMatchObject({ uploadedObjects: 0, uploadedBytes: 0, skippedObjects: 6, skippedBytes: first.progress.totalBytes });
    expect(again.link).toBe(first.link);

    const fresh = await publishShare(client, input);
    expect(fresh.progress.uploadedObjects).toBe(6); // a new key shares nothing with the old one
    expect(fresh.link).not.toBe(first.link);
  });

  it("seals the pack's parts one by one into one object that streams out authenticated, and refuses a tampered pack", async () => {
    const parts = [rng.bytes(3000), rng.bytes(10), rng.bytes(70_000)];
    const shared = await publishShare(client, { ...input, packParts: parts });
    const opened = await openShare(client, shared.link, isCheckpoint);
    const pack = opened.manifest.pack!;
    expect(pack.parts.length).toBe(3);
    expect(shared.packBytes).toBe(pack.parts.reduce((n, l) => n + l, 0));
    const got: Uint8Array[] = [];
    await opened.readPack((plain) => void got.push(plain));
    expect(got).toEqual(parts);
    // The store sees ciphertext only: no part's plaintext appears in the stored pack.
    const stored = Buffer.from(await store.raw("objects", pack.name));
    expect(stored.includes(Buffer.from(parts[0].subarray(0, 64)))).toBe(false);
    // Re-sharing with the kept key: the pack is the same object, nothing is uploaded.
    const again = await publishShare(client, { ...input, packParts: parts, shareKey: shared.shareKey });
    expect(again.progress.uploadedBytes).toBe(0);

    stored[pack.parts[0] + pack.parts[1] - 1] ^= 1; // the second part's last byte (its GCM tag)
    await store.tamper("objects", pack.name, stored);
    const seen: Uint8Array[] = [];
    await expect(opened.readPack((plain) => void seen.push(plain))).rejects.toMatchObject({ code: "damaged" });
    expect(seen).toEqual([parts[0]]); // what arrived intact before the damage was handed over
  });

  it("refuses a pack sealed under another key or in another domain", async () => {
    const parts = [rng.bytes(500), rng.bytes(600)];
    const shared = await publishShare(client, { ...input, packParts: parts });
    const other = await publishShare(client, { ...input, packParts: [rng.bytes(500), rng.bytes(600)] });
    const opened = await openShare(client, shared.link, isCheckpoint);
    const otherPack = (await openShare(client, other.link, isCheckpoint)).manifest.pack!;
    // The store swaps in another share's pack of the same shape: its parts do not authenticate.
    await store.tamper("objects", opened.manifest.pack!.name, await store.raw("objects", otherPack.name));
    await expect(opened.readPack(() => undefined)).rejects.toMatchObject({ code: "damaged" });
  });

  it("reports a chunk damaged in the store", async () => {
    const shared = await publishShare(client, { ...input, objects: await rawObjects([chunks[0]]), checkpoint: { chunks: [sha(chunks[0])] } });
    const opened = await openShare(client, shared.link, isCheckpoint);
    const name = opened.manifest.objects[sha(chunks[0])];
    await store.tamper("objects", name, "garbage");
    await expect(opened.readChunk(sha(chunks[0]))).rejects.toMatchObject({ code: "integrity" });
  });

  it("1000 mutated links never open a checkpoint other than the original, failing only with typed errors", async () => {
    const shared = await publishShare(client, input);
    const original = parseShareLink(shared.link);
    if (!original.ok) throw original.error;
    const fuzz = mulberry32(6006);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      let link = shared.link;
      for (let r = 1 + fuzz.int(2); r > 0; r--) link = mutateString(fuzz, link);
      let outcome: string;
      try {
        const opened = await openShare(client, link, isCheckpoint);
        // Only a mutation outside the fragment (the app URL) may still open, and then it must
        // be exactly the original share.
        const parsed = parseShareLink(link);
        expect(parsed.ok && parsed.link.manifest).toBe(original.link.manifest);
        expect(parsed.ok && Buffer.from(parsed.link.key).equals(Buffer.from(original.link.key))).toBe(true);
        expect(opened.manifest.checkpoint).toEqual(input.checkpoint);
        outcome = "same share";
      } catch (error) {
        if (!(error instanceof ShareError)) throw new Error(`untyped error for ${link}: ${String(error)}`);
        outcome = error.code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // The interesting paths must all have been exercised: a changed name misses in the store,
    // a changed key fails GCM.
    expect(outcomes.get("object-missing")).toBeGreaterThan(0);
    expect(outcomes.get("wrong-key")).toBeGreaterThan(0);
    expect(outcomes.get("link-malformed")).toBeGreaterThan(0);
    expect([...outcomes.keys()].every((k) => ["same share", "object-missing", "wrong-key", "link-malformed", "link-key-invalid"].includes(k))).toBe(true);
  });
});
