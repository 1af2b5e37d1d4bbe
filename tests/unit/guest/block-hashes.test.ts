import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { blockHashList, blockHashes } from "../../../scripts/guest/block-hashes.mjs";
import { parseBlockHashList } from "../../../src/protocol/guest-manifest";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("blockHashes", () => {
  const bs = 1024;
  const data = Uint8Array.from({ length: bs * 2 + 300 }, (_, i) => (i * 31 + 7) & 0xff);

  it("hashes each full block as it is", () => {
    const h = blockHashes(data, bs);
    expect(h[0]).toBe(sha(data.subarray(0, bs)));
    expect(h[1]).toBe(sha(data.subarray(bs, 2 * bs)));
  });

  it("pads the short last block with zeros to a full block before hashing", () => {
    const h = blockHashes(data, bs);
    expect(h).toHaveLength(3);
    const padded = new Uint8Array(bs);
    padded.set(data.subarray(2 * bs));
    expect(h[2]).toBe(sha(padded));
    expect(h[2]).not.toBe(sha(data.subarray(2 * bs)));
  });

  it("adds no extra block for an exact multiple, none for empty data", () => {
    expect(blockHashes(data.subarray(0, 2 * bs), bs)).toHaveLength(2);
    expect(blockHashes(new Uint8Array(0), bs)).toEqual([]);
  });

  it("rejects block sizes the app would reject", () => {
    expect(() => blockHashes(data, 1000)).toThrow();
    expect(() => blockHashes(data, 256)).toThrow();
  });

  it("writes a list the app's parser accepts for that disk size", () => {
    const list = JSON.parse(JSON.stringify(blockHashList(data, bs))) as unknown;
    expect(parseBlockHashList(list, { blockSize: bs, size: data.length }).sha256).toHaveLength(3);
    expect(() => parseBlockHashList(list, { blockSize: bs, size: data.length + bs })).toThrow();
  });
});
