// The golden image a reset copies back from: runs of written pages are copied per chunk, and the
// result must be exactly the page-by-page copy (zero chunks as zeros, runs across chunk edges).
import { describe, expect, it } from "vitest";
import { SparseRam } from "../../../src/emulator/sparse-ram";
import { PageSet } from "../../../src/v86/page-set";

function pageSet(count: number, pages: number[]): PageSet {
  const set = new PageSet(count);
  for (const p of pages) set.add(p);
  return set;
}

const PAGE = 4096;
const CHUNK = 8 * PAGE;

function image(pages: number): Uint8Array {
  const ram = new Uint8Array(pages * PAGE);
  for (let p = 0; p < pages; p++) if (p % 24 < 16) ram.fill((p * 7 + 1) & 0xff, p * PAGE, (p + 1) * PAGE); // every third chunk zero
  return ram;
}

describe("SparseRam", () => {
  it("copies back exactly the pages asked for, in runs across chunk edges, zero chunks as zeros", () => {
    const golden = image(96);
    const sparse = SparseRam.fromFull(golden, CHUNK);
    expect(sparse.bytes).toBe(8 * CHUNK); // 12 chunks, 4 of them zero
    const written = [0, 1, 2, 7, 8, 9, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 40, 63, 64, 65, 95];
    const ram = new Uint8Array(golden.byteLength).fill(0xee);
    sparse.copyPages(ram, pageSet(96, written));
    for (let p = 0; p < 96; p++) {
      const got = ram.subarray(p * PAGE, (p + 1) * PAGE);
      const want = written.includes(p) ? golden.subarray(p * PAGE, (p + 1) * PAGE) : new Uint8Array(PAGE).fill(0xee);
      expect(Buffer.compare(got, want), `page ${p}`).toBe(0);
    }
  });

  it("copies nothing for no pages", () => {
    const sparse = SparseRam.fromFull(image(16), CHUNK);
    const ram = new Uint8Array(16 * PAGE).fill(3);
    sparse.copyPages(ram, pageSet(16, []));
    expect(ram.every((b) => b === 3)).toBe(true);
  });
});
