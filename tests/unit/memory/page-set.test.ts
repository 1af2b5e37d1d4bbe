// PageSet's word-at-a-time operations (what a capture's pause and a reset use) against a plain
// model of the same set: runs, ranges and copies agree with page-by-page answers.
import { describe, expect, it } from "vitest";
import { PageSet } from "../../../src/v86/page-set";

/** Deterministic pseudo-random numbers (xorshift), so a failure replays. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function modelRuns(members: Set<number>, count: number): [number, number][] {
  const out: [number, number][] = [];
  for (let p = 0; p < count; p++) {
    if (!members.has(p)) continue;
    const first = p;
    while (p < count && members.has(p)) p++;
    out.push([first, p]);
  }
  return out;
}

describe("PageSet", () => {
  it("lists runs of members word by word, across word edges and at the end", () => {
    for (const count of [1, 31, 32, 33, 100, 1024, 1000]) {
      const next = random(count);
      for (let trial = 0; trial < 20; trial++) {
        const set = new PageSet(count);
        const model = new Set<number>();
        const density = next();
        for (let p = 0; p < count; p++) {
          if (next() < density) {
            set.add(p);
            model.add(p);
          }
        }
        // Long runs too: whole words of members.
        if (trial % 3 === 0) {
          const first = Math.floor(next() * count);
          const end = Math.min(count, first + Math.floor(next() * 200));
          set.addRange(first, end);
          for (let p = first; p < end; p++) model.add(p);
        }
        expect([...set.runs()], `count ${count} trial ${trial}`).toEqual(modelRuns(model, count));
        expect(set.size).toBe(model.size);
        expect([...set.members()]).toEqual([...model].sort((a, b) => a - b));
      }
    }
  });

  it("adds ranges with the right count, overlapping what is there", () => {
    const set = new PageSet(200);
    set.add(5);
    set.add(64);
    set.addRange(0, 10);
    set.addRange(60, 130);
    set.addRange(199, 200);
    set.addRange(20, 20);
    expect(set.size).toBe(10 + 70 + 1);
    expect([...set.runs()]).toEqual([
      [0, 10],
      [60, 130],
      [199, 200],
    ]);
    expect(() => set.addRange(150, 201)).toThrow(RangeError);
  });

  it("copies members and count, independently of the original", () => {
    const set = new PageSet(100);
    set.addRange(10, 50);
    const copy = set.copy();
    set.delete(20);
    expect(copy.size).toBe(40);
    expect(copy.has(20)).toBe(true);
    expect(new PageSet(100, copy.bits.slice().buffer).size).toBe(40);
  });
});
