import { describe, expect, it } from "vitest";
import { forEachLimited } from "../../../src/async/for-each-limited";
import { deferred } from "../../support/deferred";

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("forEachLimited", () => {
  it("runs every item, never more than `limit` at once, with its index", async () => {
    let running = 0;
    let most = 0;
    const seen: Array<[number, number]> = [];
    await forEachLimited([10, 11, 12, 13, 14, 15, 16], 3, async (item, index) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, (item % 3) * 2));
      seen.push([item, index]);
      running--;
    });
    expect(most).toBe(3);
    expect(seen.sort((a, b) => a[0] - b[0])).toEqual([[10, 0], [11, 1], [12, 2], [13, 3], [14, 4], [15, 5], [16, 6]]);
  });

  it("resolves at once for no items and treats a limit below 1 as 1", async () => {
    await expect(forEachLimited([], 4, async () => undefined)).resolves.toBeUndefined();
    let most = 0;
    let running = 0;
    await forEachLimited([1, 2, 3], 0, async () => {
      most = Math.max(most, ++running);
      await tick();
      running--;
    });
    expect(most).toBe(1);
  });

  it("draws an item from the iterator only when a slot is free", async () => {
    const drawn: number[] = [];
    const gates = [deferred(), deferred(), deferred()];
    function* items() {
      for (let i = 0; i < 3; i++) {
        drawn.push(i);
        yield i;
      }
    }
    const done = forEachLimited(items(), 1, (i) => gates[i].promise);
    expect(drawn).toEqual([0]);
    gates[0].resolve();
    await tick();
    expect(drawn).toEqual([0, 1]);
    gates[1].resolve();
    gates[2].resolve();
    await done;
    expect(drawn).toEqual([0, 1, 2]);
  });

  it("rejects with the first failure and starts nothing after it", async () => {
    const started: number[] = [];
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const done = forEachLimited([0, 1, 2, 3], 2, (i) => {
      started.push(i);
      return gates[i].promise;
    });
    const failure = new Error("item 1 failed");
    gates[1].reject(failure);
    await expect(done).rejects.toBe(failure);
    gates[0].resolve();
    await tick();
    expect(started).toEqual([0, 1]);
  });

  it("rejects when work throws synchronously or the iterator throws", async () => {
    const thrown = new Error("sync");
    await expect(
      forEachLimited([1], 1, () => {
        throw thrown;
      }),
    ).rejects.toBe(thrown);
    const broken = new Error("iterator");
    function* items() {
      yield 1;
      throw broken;
    }
    await expect(forEachLimited(items(), 1, async () => undefined)).rejects.toBe(broken);
  });

  it("stops starting work when the signal aborts and rejects with its reason", async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const done = forEachLimited(
      [0, 1, 2],
      1,
      (i) => {
        started.push(i);
        return gates[i].promise;
      },
      controller.signal,
    );
    const reason = new Error("cancelled by the user");
    controller.abort(reason);
    await expect(done).rejects.toBe(reason);
    gates[0].resolve();
    await tick();
    expect(started).toEqual([0]);
  });

  it("starts nothing under an already aborted signal", async () => {
    const started: number[] = [];
    const signal = AbortSignal.abort(new Error("too late"));
    await expect(forEachLimited([1, 2], 2, async (i) => void started.push(i), signal)).rejects.toThrow("too late");
    expect(started).toEqual([]);
  });
});
