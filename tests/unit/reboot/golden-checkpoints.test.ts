// Which checkpoint a reset returns to, and when one may be taken.
import { describe, expect, it } from "vitest";
import { GoldenCheckpoints, type GoldenHost } from "../../../src/emulator/golden-checkpoints";
import type { CheckpointInfo } from "../../../src/protocol";

const KEY = "guest-a/134217728/8388608/0.5.462";
const info = (id: string, golden: boolean, machineKey = KEY, created = 1): CheckpointInfo =>
  ({ id, golden, machineKey, created, label: golden ? "golden" : "x", autosave: false }) as CheckpointInfo;

function host(list: CheckpointInfo[], clean: boolean) {
  let cleanBoot = clean;
  const calls = { list: 0, take: 0, removed: [] as string[], preloaded: [] as string[] };
  const h: GoldenHost = {
    machineKey: () => KEY,
    guestImageId: () => "guest-a",
    list: async () => (calls.list++, [...list]),
    remove: async (id) => {
      calls.removed.push(id);
      list = list.filter((c) => c.id !== id);
    },
    consumeCleanBoot: () => {
      const c = cleanBoot;
      cleanBoot = false;
      return c;
    },
    take: async () => {
      calls.take++;
      list.push(info("new", true, KEY, 9));
      return { id: "new", pauseMs: 1, persistMs: 1, storedBytes: 1, newBytes: 1, chunksWritten: 1, peakExtraBytes: 0 };
    },
    preload: (c) => void calls.preloaded.push(c.id),
  };
  return { h, calls };
}

/** A used disk (no clean boot) while a golden checkpoint (the published state) is still arriving. */
function withGoldenArriving() {
  const list: CheckpointInfo[] = [];
  const { h, calls } = host(list, false);
  let arrive: () => void = () => undefined;
  const arriving = new Promise<void>((resolve) => (arrive = resolve));
  const g = new GoldenCheckpoints({ ...h, list: async () => [...list], arriving: () => arriving });
  return { list, calls, g, arrive };
}

describe("GoldenCheckpoints", () => {
  it("waits for a golden checkpoint still arriving (the published first-visit state) instead of refusing", async () => {
    const { list, calls, g, arrive } = withGoldenArriving();
    const ensured = g.ensure();
    list.push(info("published-x", true));
    arrive();
    expect((await ensured).id).toBe("published-x");
    expect(calls.take).toBe(0);
    // Arrived but not golden (an ordinary share link): the usual refusal on a used disk.
    const other = host([], false);
    await expect(new GoldenCheckpoints({ ...other.h, arriving: () => Promise.resolve() }).ensure()).rejects.toThrow(/wipe the disk once/);
  });

  it("at the shell's first answer: takes the golden on a clean boot, but never waits for one still arriving", async () => {
    const { list, calls, g, arrive } = withGoldenArriving();
    // Resolves at once although the published state has not arrived (the queue must not wait for it).
    let settled = false;
    await g.captureCleanBoot().then(() => (settled = true));
    expect(settled).toBe(true);
    expect(calls.take).toBe(0);
    // It still becomes the golden one once it arrives.
    list.push(info("published-x", true));
    arrive();
    expect((await g.ensure()).id).toBe("published-x");

    const clean = host([], true);
    await new GoldenCheckpoints(clean.h).captureCleanBoot();
    expect(clean.calls.take).toBe(1);
  });

  it("takes the golden once on a clean boot, shared by concurrent callers, and drops goldens of older guest builds", async () => {
    const { h, calls } = host([info("old-build", true, "guest-old/1/1/0.5.462"), info("user", false)], true);
    const g = new GoldenCheckpoints(h);
    const [a, b] = await Promise.all([g.ensure(), g.ensure()]);
    expect(a.id).toBe("new");
    expect(b.id).toBe("new");
    expect(calls.take).toBe(1);
    expect(calls.removed).toEqual(["old-build"]);
  });

  it("refuses to take one after a boot of a used disk, and finds an existing one without taking", async () => {
    const used = host([info("user", false)], false);
    await expect(new GoldenCheckpoints(used.h).ensure()).rejects.toThrow(/wipe the disk once/);
    expect(used.calls.take).toBe(0);

    const existing = host([info("g1", true, KEY, 1), info("g2", true, KEY, 5)], false);
    const g = new GoldenCheckpoints(existing.h);
    expect((await g.ensure()).id).toBe("g2"); // the newest
    expect(existing.calls.preloaded).toEqual(["g2"]);
    const lists = existing.calls.list;
    expect((await g.find())?.id).toBe("g2");
    expect(existing.calls.list).toBe(lists); // cached
    g.forget("g2");
    await g.find();
    expect(existing.calls.list).toBe(lists + 1);
  });
  it("findOrAwait: a reset asked for while the golden state arrives waits for it, at most a while past its RAM, and never takes one", async () => {
    const { list, calls, g, arrive } = withGoldenArriving();
    let settle: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const found = g.findOrAwait(() => settled, 60_000);
    list.push(info("published-x", true));
    settle();
    arrive();
    expect((await found)?.id).toBe("published-x");
    expect(calls.take).toBe(0);
    // The arriving state failed: its error, no wait.
    const failed = withGoldenArriving();
    await expect(failed.g.findOrAwait(() => Promise.reject(new Error("chunk damaged")))).rejects.toThrow("chunk damaged");
    // RAM complete but never stored: undefined after the patience, not a hang.
    const stuck = withGoldenArriving();
    expect(await stuck.g.findOrAwait(() => Promise.resolve(), 20)).toBeUndefined();
    // Nothing arriving: the answer at once (none here).
    expect(await new GoldenCheckpoints(host([], false).h).findOrAwait(() => new Promise(() => undefined))).toBeUndefined();
  });
});
