import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ShareError } from "../../../src/share/errors";
import { StoreClient, type UploadProgress } from "../../../src/share/store-client";
import { mulberry32 } from "./prng";
import { startStore, type RunningStore } from "./store-fixture";

const sha = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
const item = (bytes: Uint8Array) => ({ name: sha(bytes), bytes });

let store: RunningStore;
beforeEach(async () => {
  store = await startStore();
});
afterEach(async () => {
  await store.stop();
});

async function shareErrorOf(promise: Promise<unknown>): Promise<ShareError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ShareError) return error;
    throw error;
  }
  throw new Error("expected a ShareError");
}

describe("StoreClient", () => {
  it("reads every upload's answer to its end instead of cancelling it", async () => {
    const items = Array.from({ length: 5 }, (_, i) => item(new Uint8Array(100 + i).fill(i + 1)));
    let drained = 0;
    let cancelled = 0;
    const watchingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method !== "PUT" || !response.body) return response;
      const reader = response.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) {
            drained++;
            controller.close();
          } else controller.enqueue(value);
        },
        cancel() {
          cancelled++;
          return reader.cancel();
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    };
    const client = new StoreClient({ baseUrl: store.baseUrl, fetch: watchingFetch });
    await client.uploadObjects(items, { concurrency: 2 });
    expect({ drained, cancelled }).toEqual({ drained: 5, cancelled: 0 });
  });

  it("uploads with bounded concurrency and progress, then a re-upload sends nothing", async () => {
    const rng = mulberry32(11);
    const items = Array.from({ length: 12 }, (_, i) => item(rng.bytes(1000 + i)));
    let inFlight = 0;
    let maxInFlight = 0;
    let puts = 0;
    const countingFetch: typeof fetch = async (input, init) => {
      if (init?.method === "PUT") {
        puts++;
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        try {
          return await fetch(input, init);
        } finally {
          inFlight--;
        }
      }
      return fetch(input, init);
    };
    const client = new StoreClient({ baseUrl: store.baseUrl, fetch: countingFetch });
    const seen: UploadProgress[] = [];
    const done = await client.uploadObjects([...items, items[0]], { concurrency: 3, onProgress: (p) => seen.push(p) });
    expect(done).toMatchObject({ totalObjects: 12, skippedObjects: 0, uploadedObjects: 12 });
    expect(done.uploadedBytes).toBe(items.reduce((n, x) => n + x.bytes.byteLength, 0));
    expect(puts).toBe(12);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(seen.map((p) => p.uploadedObjects)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    puts = 0;
    const again = await client.uploadObjects(items);
    expect(again).toMatchObject({ skippedObjects: 12, uploadedObjects: 0 });
    expect(puts).toBe(0);
    expect(await client.missing(items.map((x) => x.name))).toEqual([]);
  });

  it("gets whole objects (verified) and ranges", async () => {
    const client = new StoreClient({ baseUrl: store.baseUrl });
    const x = item(new TextEncoder().encode("0123456789"));
    await client.putObject(x.name, x.bytes);
    expect(await client.getObject(x.name)).toEqual(x.bytes);
    expect(new TextDecoder().decode(await client.getObject(x.name, { range: { start: 3, end: 5 } }))).toBe("345");
  });

  it("puts and gets manifests", async () => {
    const client = new StoreClient({ baseUrl: store.baseUrl });
    const m = item(new TextEncoder().encode("sealed manifest"));
    await client.putManifest(m.name, m.bytes);
    expect(await client.getManifest(m.name)).toEqual(m.bytes);
  });

  it("reports a missing object by name", async () => {
    const client = new StoreClient({ baseUrl: store.baseUrl });
    const name = sha(new TextEncoder().encode("never stored"));
    const error = await shareErrorOf(client.getObject(name));
    expect(error.code).toBe("object-missing");
    expect(error.message).toBe(`The shared checkpoint is missing object ${name}`);
    expect((await shareErrorOf(client.getManifest(name))).code).toBe("object-missing");
  });

  it("detects bytes that do not match their name (corrupted on disk)", async () => {
    const client = new StoreClient({ baseUrl: store.baseUrl });
    const x = item(new TextEncoder().encode("original"));
    await client.putObject(x.name, x.bytes);
    await store.tamper("objects", x.name, "corrupted");
    const error = await shareErrorOf(client.getObject(x.name));
    expect(error.code).toBe("integrity");
    expect(error.message).toContain(x.name);
  });

  it("reports the store as unreachable when nothing listens or a proxy answers 502", async () => {
    const baseUrl = store.baseUrl;
    await store.stop();
    const down = new StoreClient({ baseUrl });
    const error = await shareErrorOf(down.getObject("ab".repeat(32)));
    expect(error.code).toBe("store-unreachable");
    expect(error.message).toBe("The checkpoint store is not reachable");
    const proxied = new StoreClient({ fetch: async () => new Response("", { status: 502 }) });
    expect((await shareErrorOf(proxied.missing(["ab".repeat(32)]))).code).toBe("store-unreachable");
    store = await startStore(); // for afterEach
  });

  it("retries a request a proxy dropped, and gives up after the configured retries", async () => {
    let calls = 0;
    const flaky = new StoreClient({
      baseUrl: store.baseUrl,
      fetch: async (input, init) => (++calls === 1 ? new Response("", { status: 502 }) : fetch(input, init)),
    });
    expect(await flaky.missing(["ab".repeat(32)])).toEqual(["ab".repeat(32)]);
    expect(calls).toBe(2);
    let downCalls = 0;
    const down = new StoreClient({ retries: 1, fetch: async () => (downCalls++, new Response("", { status: 503 })) });
    expect((await shareErrorOf(down.missing(["ab".repeat(32)]))).code).toBe("store-unreachable");
    expect(downCalls).toBe(2);
  });

  it("passes the store's refusal through (payload too large)", async () => {
    await store.stop();
    store = await startStore({ maxObjectBytes: 10 });
    const client = new StoreClient({ baseUrl: store.baseUrl });
    const big = item(new Uint8Array(11));
    const error = await shareErrorOf(client.uploadObjects([big]));
    expect(error.code).toBe("store-refused");
    expect(error.message).toContain("413");
  });

  it("lets an abort through as an AbortError, not a store failure", async () => {
    const client = new StoreClient({ baseUrl: store.baseUrl });
    const controller = new AbortController();
    controller.abort();
    await expect(client.getObject("ab".repeat(32), { signal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
  });
});
