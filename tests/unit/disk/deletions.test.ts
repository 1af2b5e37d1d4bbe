import { describe, expect, it } from "vitest";
import { LayerError } from "../../../src/disk/errors";
import { PendingDeletions } from "../../../src/disk/deletions";
import { holdPendingLock, unlessPending, type LockManagerLike } from "../../../src/disk/storage";

/** Exclusive locks; a waiting request queues behind the holder, an ifAvailable one gets null. */
class QueueLocks implements LockManagerLike {
  private tails = new Map<string, Promise<unknown>>();
  async request(name: string, o: { ifAvailable: boolean }, cb: (lock: unknown) => unknown): Promise<unknown> {
    const busy = this.tails.has(name);
    if (busy && o.ifAvailable) return cb(null);
    const before = this.tails.get(name) ?? Promise.resolve();
    const run = before.then(() => cb({ name }));
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(name, tail);
    void tail.then(() => {
      if (this.tails.get(name) === tail) this.tails.delete(name);
    });
    return run;
  }
}

describe("PendingDeletions", () => {
  it("settles once every tracked deletion, including later ones, is over", async () => {
    const reports: string[] = [];
    const d = new PendingDeletions((m) => reports.push(m));
    const order: string[] = [];
    d.run("a", async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push("a");
      d.run("b", async () => void order.push("b"));
    });
    await d.settled();
    expect(order).toEqual(["a", "b"]);
    expect(reports).toEqual([]);
    expect(d.busy).toBe(false);
  });

  it("reports a failure at once and rejects the next settled() with it, once", async () => {
    const reports: string[] = [];
    const d = new PendingDeletions((m) => reports.push(m));
    d.track("deleting layer x", Promise.reject(new Error("disk gone")));
    await expect(d.settled()).rejects.toBeInstanceOf(LayerError);
    expect(reports).toEqual(["deleting layer x: disk gone"]);
    await expect(d.settled()).resolves.toBeUndefined();
  });
});

describe("pending layer locks", () => {
  it("a sweep skips a layer while its capture or import holds the pending lock", async () => {
    const locks = new QueueLocks();
    const pending = await holdPendingLock("L", locks);
    expect(await unlessPending("L", async () => "deleted", locks)).toBeUndefined();
    expect(await unlessPending("other", async () => "deleted", locks)).toBe("deleted");
    pending.release();
    await new Promise((r) => setTimeout(r, 0));
    expect(await unlessPending("L", async () => "deleted", locks)).toBe("deleted");
  });

  it("without a lock manager nothing is pending", async () => {
    expect(await unlessPending("L", async () => 1, null)).toBe(1);
    expect((await holdPendingLock("L", null)).enforced).toBe(false);
  });
});
