import { createHash } from "node:crypto";

// The app verifies every disk block it fetches against this list, so the rule for the
// short last block must match the app's: pad it with zeros to a full block, then hash.

/** sha256 hex digests of each blockSize slice of data, the last one zero-padded. */
export function blockHashes(data, blockSize) {
  if (!Number.isSafeInteger(blockSize) || blockSize < 512 || (blockSize & (blockSize - 1)) !== 0) {
    throw new Error(`block size ${blockSize} must be a power of two >= 512`);
  }
  const out = [];
  for (let start = 0; start < data.byteLength; start += blockSize) {
    let block = data.subarray(start, Math.min(start + blockSize, data.byteLength));
    if (block.byteLength < blockSize) {
      const padded = new Uint8Array(blockSize);
      padded.set(block);
      block = padded;
    }
    out.push(createHash("sha256").update(block).digest("hex"));
  }
  return out;
}

/** The JSON document written next to the disk image (`rootfs.ext4.blocks.json`). */
export function blockHashList(data, blockSize) {
  return { blockSize, sha256: blockHashes(data, blockSize) };
}
