import { describe, expect, it } from "vitest";
import { deriveShareKeys, generateShareKey, sealObject } from "../../../src/share/crypto";
import { shareReader } from "../../../src/share/share-session";
import { StoreClient } from "../../../src/share/store-client";

// Issue 16 defect 7: a hostile store (no key needed) chooses every length it sends. The opener
// must stop reading at what it can use, and never copy quadratically.
const MiB = 1024 * 1024;
const NAME = "ab".repeat(32);

/** A store answering every GET with `head` followed by `junk` bytes, counting what was pulled. */
function hostileFetch(head: Uint8Array, junk: number, piece = 64 * 1024, declareLength = false) {
  const seen = { pulled: 0 };
  const fetchImpl: typeof fetch = async () => {
    let sentHead = false;
    let left = junk;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (!sentHead) {
          sentHead = true;
          seen.pulled += head.byteLength;
          controller.enqueue(head);
          return;
        }
        if (left <= 0) return controller.close();
        const n = Math.min(piece, left);
        left -= n;
        seen.pulled += n;
        controller.enqueue(new Uint8Array(n).fill(0x5a));
      },
    });
    const headers = declareLength ? { "Content-Length": String(head.byteLength + junk) } : undefined;
    return new Response(body, { status: 200, headers });
  };
  return { seen, client: new StoreClient({ baseUrl: "http://store.test/store", fetch: fetchImpl, retries: 0 }) };
}

describe("a hostile store cannot make the opener hold what it sends", () => {
  it("stops reading a manifest past 8 MiB", async () => {
    const { seen, client } = hostileFetch(new Uint8Array(0), 32 * MiB);
    await expect(client.getManifest(NAME)).rejects.toMatchObject({ code: "damaged" });
    expect(seen.pulled).toBeLessThan(9 * MiB);
  });

  it("refuses a manifest whose declared length is too large without reading it", async () => {
    const { seen, client } = hostileFetch(new Uint8Array(0), 32 * MiB, 64 * 1024, true);
    await expect(client.getManifest(NAME)).rejects.toMatchObject({ code: "damaged" });
    expect(seen.pulled).toBeLessThan(1 * MiB);
  });

  it("stops reading an object past the caller's bound", async () => {
    const { seen, client } = hostileFetch(new Uint8Array(0), 8 * MiB);
    await expect(client.getObject(NAME, { maxBytes: 70_000 })).rejects.toMatchObject({ code: "damaged" });
    expect(seen.pulled).toBeLessThan(1 * MiB);
  });

  it("refuses junk after the pack as it arrives (the review sent 32 MiB; it took 18.8 s)", async () => {
    const keys = await deriveShareKeys(generateShareKey());
    const part = await sealObject(keys, new Uint8Array(1000).fill(1), "pack");
    const { seen, client } = hostileFetch(part.bytes, 4 * MiB, 16 * 1024);
    const reader = shareReader(client, keys, { objects: {}, pack: { name: NAME, parts: [part.bytes.byteLength] } });
    const parts: Uint8Array[] = [];
    await expect(reader.readPack((p) => void parts.push(p))).rejects.toMatchObject({ code: "damaged" });
    expect(parts).toHaveLength(1);
    expect(seen.pulled).toBeLessThan(part.bytes.byteLength + 64 * 1024);
  });
});
