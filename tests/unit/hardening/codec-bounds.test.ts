import { beforeAll, describe, expect, it } from "vitest";
import { decodeChunk, encodeChunk, initCodec, zstdContentSize } from "../../../src/checkpoint/codec";
import { zstdRleBomb } from "./zstd-bomb";

const MiB = 1024 * 1024;

beforeAll(() => initCodec());

describe("zstd decoding is bounded by the caller's expected length", () => {
  // First in the file: the wasm heap only grows, so a bomb decoded earlier would hide this one.
  it("refuses an 8 KiB frame declaring 256 MiB before the decoder allocates it", () => {
    const bomb = zstdRleBomb(256 * MiB);
    expect(bomb.byteLength).toBeLessThan(9 * 1024);
    const before = process.memoryUsage().rss;
    expect(() => decodeChunk(bomb, "zstd", 64 * 1024)).toThrow(/declares/);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * MiB);
  });

  it("refuses a frame declaring the right size whose blocks produce more", () => {
    const liar = zstdRleBomb(2 * MiB, 64 * 1024);
    expect(() => decodeChunk(liar, "zstd", 64 * 1024)).toThrow();
  });

  it("refuses a frame that declares no content size", () => {
    const z = encodeChunk(new Uint8Array(4096).fill(3)).bytes.slice();
    z[4] &= 0x3f; // clear the content-size flag bits
    z[4] &= ~0x20;
    expect(() => decodeChunk(z, "zstd", 4096)).toThrow();
  });

  it("reads content sizes of real frames and decodes them", () => {
    for (const n of [1, 200, 300, 65536, 1 << 20]) {
      const raw = new Uint8Array(n).map((_, i) => (i * 7) & 0xff);
      const enc = encodeChunk(raw);
      if (enc.codec === "zstd") expect(zstdContentSize(enc.bytes)).toBe(n);
      expect(decodeChunk(enc.bytes, enc.codec, n)).toEqual(raw);
    }
  });
});
