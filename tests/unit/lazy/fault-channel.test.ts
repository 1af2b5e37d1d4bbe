// The blocking fault protocol across two real threads: the client (as in the emulator worker)
// sleeps in Atomics.wait inside a worker_threads Worker, the server (as in the loader worker)
// answers from this thread's event loop.
import { Worker } from "node:worker_threads";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { CONTROL, createFaultBuffers, serveFaults, STATE, waitForWindow, type FaultBuffers } from "../../../src/lazy/fault-channel";
import { plainModules } from "../../support/plain-modules";

let moduleUrl = "";

beforeAll(async () => {
  const urls = await plainModules("fault-channel-", [
    ["lazy", "fault-channel"],
    ["lazy", "chunk-shelf"],
    ["protocol", "errors"],
  ]);
  moduleUrl = urls["fault-channel"];
});

interface ClientResult {
  results: Array<{ ok: true; bytes: number[] } | { ok: false; name: string; message: string; ms: number }>;
}

/** Runs FaultClient.request for each index in a worker; resolves with what each returned. */
function runClient(buffers: FaultBuffers, indices: number[], timeoutMs = 5000): Promise<ClientResult> {
  const code = `
    import { workerData, parentPort } from "node:worker_threads";
    const { FaultClient } = await import(workerData.moduleUrl);
    const client = new FaultClient(workerData.buffers, workerData.timeoutMs);
    const results = [];
    for (const i of workerData.indices) {
      const t0 = performance.now();
      try {
        const got = client.request(i, i * 8);
        if (got.pages !== -1) throw new Error("a whole chunk must come with every page valid");
        results.push({ ok: true, bytes: [...got.bytes] });
      }
      catch (e) { results.push({ ok: false, name: e.name, message: e.message, ms: performance.now() - t0 }); }
    }
    client.close();
    parentPort.postMessage({ results });
  `;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), {
    workerData: { moduleUrl, buffers, indices, timeoutMs },
  });
  return new Promise((resolve, reject) => {
    worker.once("message", (m: ClientResult) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once("error", reject);
  });
}

const chunkOf = (index: number, size = 64): Uint8Array => Uint8Array.from({ length: size }, (_, k) => (index * 7 + k) & 0xff);

describe("fault channel", () => {
  let buffers: FaultBuffers;
  afterEach(() => {
    Atomics.store(new Int32Array(buffers.control), CONTROL.closed, 1);
    Atomics.notify(new Int32Array(buffers.control), CONTROL.state);
  });

  it("delivers each requested chunk to a blocked client, one request at a time", async () => {
    buffers = createFaultBuffers(64);
    const asked: number[] = [];
    const server = serveFaults(buffers, async (i) => {
      asked.push(i);
      await new Promise((r) => setTimeout(r, 5)); // an IndexedDB read takes a while
      return chunkOf(i);
    });
    const { results } = await runClient(buffers, [3, 0, 41, 3]);
    expect(asked).toEqual([3, 0, 41, 3]);
    expect(results.map((r) => (r.ok ? r.bytes : null))).toEqual([3, 0, 41, 3].map((i) => [...chunkOf(i)]));
    await server; // the client closed the session: the server returns
  });

  it("returns short chunks with their own length", async () => {
    buffers = createFaultBuffers(64);
    void serveFaults(buffers, async (i) => chunkOf(i, 10));
    const { results } = await runClient(buffers, [5]);
    expect(results[0]).toEqual({ ok: true, bytes: [...chunkOf(5, 10)] });
  });

  it("turns a damaged chunk into an error naming the checkpoint, and fails every later request without asking again", async () => {
    buffers = createFaultBuffers(64);
    let calls = 0;
    void serveFaults(buffers, async (i) => {
      calls++;
      if (i === 2) throw new Error("checkpoint cp-abc is damaged: chunk 1234… does not match its hash");
      return chunkOf(i);
    });
    const { results } = await runClient(buffers, [1, 2, 1]);
    expect(results[0].ok).toBe(true);
    expect(results[1]).toMatchObject({ ok: false, name: "LazyFaultError", message: expect.stringContaining("cp-abc is damaged") });
    expect(results[2]).toMatchObject({ ok: false, name: "LazyFaultError", message: expect.stringContaining("cp-abc") });
    expect(calls).toBe(2);
  });

  it("gives up after the timeout when no loader answers", async () => {
    buffers = createFaultBuffers(64);
    const { results } = await runClient(buffers, [7], 200);
    expect(results[0]).toMatchObject({ ok: false, name: "LazyFaultError", message: expect.stringContaining("did not deliver RAM chunk 7") });
    expect((results[0] as { ms: number }).ms).toBeGreaterThanOrEqual(190);
    expect(Atomics.load(new Int32Array(buffers.control), CONTROL.state)).toBe(STATE.requested);
  });

  it("holds prefetch back until the emulator consumed enough", async () => {
    buffers = createFaultBuffers(64);
    const control = new Int32Array(buffers.control);
    let released = false;
    const waiting = waitForWindow(buffers, 10, 8).then(() => (released = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(released).toBe(false);
    Atomics.add(control, CONTROL.consumed, 3); // 10 sent, 3 consumed: 7 in flight < 8
    Atomics.notify(control, CONTROL.consumed);
    await waiting;
    expect(released).toBe(true);
  });
});
