// The bookkeeping between dirty pages and checkpoints: which chunks a capture must read, which
// pages a reset must copy back, and when tracking cannot vouch for RAM (full fallbacks).
import { describe, expect, it } from "vitest";
import { DirtyPages } from "../../../src/v86/dirty-pages";
import type { RamWatch, WriteSlot } from "../../../src/v86/ram-watch";
import { MemoryTracking } from "../../../src/emulator/memory-tracking";

const PAGES = 64; // 256 KiB of "RAM"
const CHUNK = 32 * 1024; // 8 pages per chunk
const CHUNKS = (PAGES * 4096) / CHUNK;

function machine() {
  let written: WriteSlot | null = null;
  const ram = new Uint8Array(PAGES * 4096);
  const watch = {
    cpu: { memory_size: [PAGES * 4096], full_clear_tlb: () => undefined },
    context: () => ({ view: new DataView(ram.buffer), ramOffset: 0 }),
    setWritten: (slot: WriteSlot | null) => void (written = slot),
  } as unknown as RamWatch;
  const tracking = new MemoryTracking(new DirtyPages(watch));
  return { tracking, write: (page: number) => written?.(page) };
}

const hashes = (tag: string): (string | null)[] => Array.from({ length: CHUNKS }, (_, i) => `${tag}${i}`);

describe("MemoryTracking", () => {
  it("reads everything without a base, then only the chunks written since the last capture", () => {
    const m = machine();
    const first = m.tracking.pause(CHUNK, [], false);
    expect(first.chunks).toHaveLength(CHUNKS);
    expect(first.base).toBeNull();
    first.snapshot.close();
    m.tracking.captured(first, "a", hashes("a"), false);
    m.write(9); // chunk 1
    m.write(40); // chunk 5
    const second = m.tracking.pause(CHUNK, [3], false);
    expect(second.chunks).toEqual([1, 3, 5]);
    expect(second.base).toEqual(hashes("a"));
    // The base is checkpoint "a"'s RAM: the store finds its chunks through that checkpoint.
    expect(second.baseId).toBe("a");
    second.snapshot.close();
  });

  it("names the base's checkpoint only when all its chunks are in the local store", () => {
    const m = machine();
    m.tracking.restored("opened-share", hashes("s"), CHUNK, false);
    const plan = m.tracking.pause(CHUNK, [], false);
    expect(plan.base).toEqual(hashes("s"));
    expect(plan.baseId).toBeNull();
    plan.snapshot.close();
    m.tracking.restored("own", hashes("o"), CHUNK, true);
    const own = m.tracking.pause(CHUNK, [], false);
    expect(own.baseId).toBe("own");
    own.snapshot.close();
    const none = m.tracking.pause(CHUNK, [], false);
    expect(none.base).toBeNull();
    expect(none.baseId).toBeNull();
    none.snapshot.close();
  });

  it("ignores a capture's result once RAM got another history while it was written", () => {
    const m = machine();
    const plan = m.tracking.pause(CHUNK, [], false);
    plan.snapshot.close();
    m.tracking.restored("other", hashes("o"), CHUNK, true);
    m.tracking.captured(plan, "late", hashes("late"), false);
    expect(m.tracking.base?.chunks).toEqual(hashes("o"));
  });

  it("copies back only pages written since the golden state, and after a restore only the chunks it does not share with it", () => {
    const m = machine();
    const golden = hashes("g");
    expect(m.tracking.pagesDifferingFrom("g", golden, CHUNK)).toBeNull(); // nothing known yet
    m.tracking.resetTo("g", golden, CHUNK);
    m.write(2);
    expect([...m.tracking.pagesDifferingFrom("g", golden, CHUNK)!.members()]).toEqual([2]);

    const other = [...golden];
    other[4] = "x4";
    m.tracking.restored("other", other, CHUNK, true);
    m.write(60);
    expect([...m.tracking.pagesDifferingFrom("g", golden, CHUNK)!.members()]).toEqual([32, 33, 34, 35, 36, 37, 38, 39, 60]);

    m.tracking.unknown(); // an aborted lazy restore: RAM holds stale pages
    expect(m.tracking.pagesDifferingFrom("g", golden, CHUNK)).toBeNull();
  });

  it("after a reload, works out the reset from the resumed state and the golden chunk lists", () => {
    const m = machine();
    const golden = hashes("g");
    const resumed = [...golden];
    resumed[0] = "r0";
    m.tracking.restored("autosave", resumed, CHUNK, true);
    m.write(17);
    expect([...m.tracking.pagesDifferingFrom("g", golden, CHUNK)!.members()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 17]);
  });
});
