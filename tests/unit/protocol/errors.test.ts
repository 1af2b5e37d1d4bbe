import * as Comlink from "comlink";
import { afterEach, describe, expect, it } from "vitest";
import { CheckpointCorruptError, checkpointMissing } from "../../../src/checkpoint/errors";
import { BaseImageError, StorageFullError } from "../../../src/disk/errors";
import { abortError, errorCode, Snap86Error, type ErrorCode } from "../../../src/protocol/errors";
import { installTransferHandlers } from "../../../src/protocol/transfer";
import { shareErrors } from "../../../src/share/errors";
import { userMessage } from "../../../src/page/ui/error-messages";

installTransferHandlers();

/** A remote operation that never ends by itself: it settles only when `signal` aborts. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    if (signal.aborted) reject(abortError(signal));
    signal.addEventListener("abort", () => reject(abortError(signal)), { once: true });
  });
}

const ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

/** `obj` exposed on one end of a fresh channel and wrapped on the other, as a worker would be. */
function across<T extends object>(obj: T): Comlink.Remote<T> {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  Comlink.expose(obj, port1);
  return Comlink.wrap<T>(port2);
}

async function rejection(p: Promise<unknown>): Promise<Snap86Error> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(Snap86Error);
  return e as Snap86Error;
}

describe("error codes", () => {
  it.each<[string, unknown, ErrorCode]>([
    ["a share error", shareErrors.wrongKey(), "wrong-key"],
    ["a damaged chunk", new CheckpointCorruptError("c1", "ab".repeat(32), "does not match"), "checkpoint-corrupt"],
    ["a missing checkpoint", checkpointMissing("c1"), "checkpoint-missing"],
    ["a 404 base image", new BaseImageError("not-found", "gone", "/x.img"), "image-not-found"],
    ["a CORS failure", new BaseImageError("network", "failed", "/x.img"), "image-unreachable"],
    ["full storage", new StorageFullError(10), "storage-full"],
    ["the platform's quota error", new DOMException("quota", "QuotaExceededError"), "storage-full"],
    ["the platform's abort", new DOMException("stop", "AbortError"), "aborted"],
    ["a plain Error", new Error("bug"), "internal"],
    ["a string", "bug", "internal"],
  ])("%s has its code", (_what, e, code) => {
    expect(errorCode(e)).toBe(code);
  });
});

describe("errors across Comlink", () => {
  it("keep code, name, message and detail", async () => {
    const remote = across({ fail: () => Promise.reject(shareErrors.storeRefused(413, "too large")) });
    const e = await rejection(remote.fail());
    expect(e).toMatchObject({ code: "store-refused", name: "ShareError", detail: { status: 413, reason: "too large" } });
    expect(e.message).toBe("The checkpoint store refused the request (HTTP 413: too large)");
  });

  it("keep their code over two hops (checkpoint-I/O worker → emulator worker → page)", async () => {
    const io = across({ load: (id: string) => Promise.reject(checkpointMissing(id)) });
    const emulator = across({ restore: (id: string) => io.load(id) });
    const e = await rejection(emulator.restore("c7"));
    expect(e).toMatchObject({ code: "checkpoint-missing", name: "Snap86Error", detail: { checkpointId: "c7" } });
  });

  it("give a thrown plain Error the code internal and keep its message", async () => {
    const remote = across({
      fail: () => {
        throw new TypeError("x is undefined");
      },
    });
    expect(await rejection(remote.fail())).toMatchObject({ code: "internal", name: "TypeError", message: "x is undefined" });
  });

  it("pass thrown non-errors through as they are", async () => {
    const remote = across({ fail: () => Promise.reject({ odd: 1 }) });
    await expect(remote.fail()).rejects.toEqual({ odd: 1 });
  });
});

describe("AbortSignal across Comlink", () => {
  it("aborts the remote side's signal, and the call rejects with code aborted", async () => {
    let remoteSignal: AbortSignal | undefined;
    const remote = across({
      wait(signal: AbortSignal) {
        remoteSignal = signal;
        return untilAborted(signal);
      },
    });
    const controller = new AbortController();
    const call = remote.wait(controller.signal);
    await expect.poll(() => remoteSignal).toBeDefined();
    expect(remoteSignal?.aborted).toBe(false);
    controller.abort();
    expect(await rejection(call)).toMatchObject({ code: "aborted" });
    expect(remoteSignal?.aborted).toBe(true);
  });

  it("arrives aborted when it was aborted before the call", async () => {
    const remote = across({ aborted: (signal: AbortSignal) => new Promise((r) => setTimeout(() => r(signal.aborted), 10)) });
    const controller = new AbortController();
    controller.abort();
    expect(await remote.aborted(controller.signal)).toBe(true);
  });

  it("carries the caller's reason when it is one of ours", async () => {
    const remote = across({ wait: (signal: AbortSignal) => untilAborted(signal) });
    const controller = new AbortController();
    const call = remote.wait(controller.signal);
    controller.abort(new Snap86Error("timeout", "gave up"));
    expect(await rejection(call)).toMatchObject({ code: "timeout", message: "gave up" });
  });
});

describe("userMessage", () => {
  it("chooses the page's words by code, not the worker's message", () => {
    const e = new Snap86Error("link-key-invalid", "worker words");
    expect(userMessage(e)).toContain("copy the whole link");
    expect(userMessage(e)).not.toContain("worker words");
  });

  it("quotes the facts in detail", () => {
    expect(userMessage(new BaseImageError("not-found", "x", "/img/dos.img"))).toBe("No image at this address (HTTP 404): /img/dos.img");
    expect(userMessage(shareErrors.storeRefused(507, "full"))).toContain("HTTP 507: full");
  });

  it("says nothing for a cancelled operation", () => {
    expect(userMessage(new Snap86Error("aborted", "Cancelled"))).toBeNull();
    expect(userMessage(new DOMException("stop", "AbortError"))).toBeNull();
  });

  it("reads codes from errors as they arrive from a worker (plain objects) and falls back on unknown codes", () => {
    expect(userMessage({ code: "storage-full", name: "Error", message: "m", detail: {} })).toContain("Browser storage is full");
    expect(userMessage({ code: "from-a-newer-worker", name: "Error", message: "its own words", detail: {} })).toBe("its own words");
  });
});
