import { describe, expect, it } from "vitest";
import { InFlight } from "../../../src/async/in-flight";
import { deferred } from "../../support/deferred";

/** Resolves after the event loop turned once: a microtask loop never lets this happen. */
const macrotask = () => new Promise<void>((r) => setTimeout(r, 0));

describe("InFlight", () => {
  it("idle() resolves at once when nothing is tracked", async () => {
    await new InFlight().idle();
  });

  it("idle() waits for every tracked promise, rejected ones included", async () => {
    const f = new InFlight();
    const a = deferred();
    const b = deferred();
    f.track(a.promise);
    f.track(b.promise).catch(() => undefined);
    let idle = false;
    const waiting = f.idle().then(() => (idle = true));
    a.resolve();
    await macrotask();
    expect(idle).toBe(false);
    b.reject(new Error("failed"));
    await waiting;
    expect(f.size).toBe(0);
  });

  it("idle() also waits for work tracked while it waits", async () => {
    const f = new InFlight();
    const a = deferred();
    const b = deferred();
    f.track(a.promise);
    let idle = false;
    const waiting = f.idle().then(() => (idle = true));
    f.track(b.promise);
    a.resolve();
    await macrotask();
    expect(idle).toBe(false);
    b.resolve();
    await waiting;
  });

  it("a waiter resumes after the entry is gone, and the event loop keeps turning", async () => {
    // The hang this replaced: a settled entry still in the set while its owner awaited an event.
    const f = new InFlight();
    const work = deferred<number>();
    const owner = (async () => {
      const n = await f.track(work.promise);
      await macrotask(); // the owner's later steps need the event loop (an IndexedDB event)
      return n;
    })();
    const waiter = f.idle();
    work.resolve(7);
    await waiter;
    expect(f.size).toBe(0);
    expect(await owner).toBe(7);
  });
});
