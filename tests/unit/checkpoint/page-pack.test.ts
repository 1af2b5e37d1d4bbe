// The share pack's parts: working-set pages with the checkpoint they belong to, compressed in
// groups; anything malformed is "damaged", never installed.
import { beforeAll, describe, expect, it } from "vitest";
import { initCodec } from "../../../src/checkpoint/codec";
import { buildPackParts, decodePackPart, encodePackPart, MAX_PACK_BYTES, MAX_PACK_PAGES, PACK_PAGE_SIZE, PART_PAGES } from "../../../src/share/page-pack";
import { ShareError } from "../../../src/share/errors";

beforeAll(async () => {
  await initCodec();
});

/** A page that is not zero and differs per page number. */
const pageOf = (n: number): Uint8Array => {
  const p = new Uint8Array(PACK_PAGE_SIZE);
  for (let i = 0; i < p.length; i += 97) p[i] = (n * 31 + i) & 0xff || 1;
  return p;
};

async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
    return "no error";
  } catch (e) {
    return e instanceof ShareError ? e.code : `untyped ${String(e)}`;
  }
}

describe("page pack", () => {
  it("builds parts in need order, skipping repeats and zero or unknown pages, and decodes them back", async () => {
    const want = [70, 3, 70, 9, 500, 12, ...Array.from({ length: 40 }, (_, i) => 100 + i)];
    const parts = await buildPackParts("cp-1", want, async (page) => (page === 9 ? new Uint8Array(PACK_PAGE_SIZE) : page === 500 ? null : pageOf(page)));
    const decoded = parts.map((p) => decodePackPart(p, "cp-1", 1024));
    const pages = decoded.flatMap((d) => d.pages);
    expect(pages).toEqual([70, 3, 12, ...Array.from({ length: 40 }, (_, i) => 100 + i)]);
    expect(decoded[0].pages.length).toBe(PART_PAGES);
    for (const d of decoded) d.pages.forEach((page, k) => expect(Buffer.compare(d.data.subarray(k * PACK_PAGE_SIZE, (k + 1) * PACK_PAGE_SIZE), pageOf(page))).toBe(0));
    // Compressed: the pages of this test are mostly zeros.
    expect(parts.reduce((n, p) => n + p.byteLength, 0)).toBeLessThan(pages.length * 400);
  });

  it("stops at MAX_PACK_PAGES, and at MAX_PACK_BYTES keeping the first (newest) pages", async () => {
    const want = Array.from({ length: MAX_PACK_PAGES + 10 }, (_, i) => i);
    const parts = await buildPackParts("cp-1", want, async (page) => pageOf(page));
    expect(parts.map((p) => decodePackPart(p, "cp-1", MAX_PACK_PAGES + 10).pages.length).reduce((a, b) => a + b, 0)).toBe(MAX_PACK_PAGES);
    // Random pages do not compress: 16 MiB of them are cut to the byte cap, in need order.
    const big = await buildPackParts("cp-1", want, async () => crypto.getRandomValues(new Uint8Array(PACK_PAGE_SIZE)));
    const total = big.reduce((n, p) => n + p.byteLength, 0);
    expect(total).toBeLessThanOrEqual(MAX_PACK_BYTES);
    expect(total).toBeGreaterThan(MAX_PACK_BYTES - 2 * PART_PAGES * PACK_PAGE_SIZE);
    const pages = big.flatMap((p) => decodePackPart(p, "cp-1", MAX_PACK_PAGES + 10).pages);
    expect(pages).toEqual(want.slice(0, pages.length));
  });

  it("refuses a part of another checkpoint, pages outside RAM or named twice, and truncated or garbled parts", async () => {
    const good = encodePackPart({ checkpointId: "cp-1", pages: [5, 6], data: new Uint8Array(2 * PACK_PAGE_SIZE).fill(7) });
    expect(decodePackPart(good, "cp-1", 8).pages).toEqual([5, 6]);
    expect(await codeOf(() => decodePackPart(good, "cp-2", 8))).toBe("damaged");
    expect(await codeOf(() => decodePackPart(good, "cp-1", 6))).toBe("damaged");
    const twice = encodePackPart({ checkpointId: "cp-1", pages: [5, 5], data: new Uint8Array(2 * PACK_PAGE_SIZE).fill(7) });
    expect(await codeOf(() => decodePackPart(twice, "cp-1", 8))).toBe("damaged");
    for (let cut = 0; cut < good.byteLength; cut += 3) expect(await codeOf(() => decodePackPart(good.subarray(0, cut), "cp-1", 8))).toBe("damaged");
    const garbled = good.slice();
    garbled[garbled.byteLength - 5] ^= 0xff;
    expect(await codeOf(() => decodePackPart(garbled, "cp-1", 8))).toBe("damaged");
    const wrongCount = good.slice();
    wrongCount[6] = 3; // says 3 pages, carries 2 page numbers' worth of header and data
    expect(await codeOf(() => decodePackPart(wrongCount, "cp-1", 8))).toBe("damaged");
  });

  it("refuses what it could not decode as a part", () => {
    expect(() => encodePackPart({ checkpointId: "", pages: [1], data: new Uint8Array(PACK_PAGE_SIZE) })).toThrow(RangeError);
    expect(() => encodePackPart({ checkpointId: "cp", pages: [1, 2], data: new Uint8Array(PACK_PAGE_SIZE) })).toThrow(RangeError);
  });
});
