/**
 * Block-size measurement (not a regular test): reads the real guest disk (public/guest/rootfs.ext4) through
 * HttpBaseImage + a memory-only Overlay from a local HTTP server, as 128 KiB sequential IDE-sized reads.
 * Run: DISK_BENCH=1 npx vitest run tests/unit/disk/block-size.measure.test.ts
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HttpBaseImage } from "../../../src/disk/base-image";
import { Overlay } from "../../../src/disk/overlay";
import { hashList, startServer } from "./helpers";

const IMAGE = "public/guest/rootfs.ext4";
const enabled = !!process.env.DISK_BENCH && existsSync(IMAGE);

describe.skipIf(!enabled)("disk block size measurement", () => {
  it("reads the base image at 16/64/256 KiB blocks, with and without read-ahead", async () => {
    const data = new Uint8Array(readFileSync(IMAGE));
    const rows: Array<Record<string, string | number>> = [];
    for (const latencyMs of [0, 5]) {
      const srv = await startServer(data, "range", latencyMs);
      const total = latencyMs === 0 ? data.byteLength : 16 * 1024 * 1024;
      try {
        for (const [blockKiB, run] of [[16, 1], [64, 1], [256, 1], [64, 4], [64, 16]] as const) {
          const blockSize = blockKiB * 1024;
          const hashes = await hashList(data, blockSize);
          const base = await HttpBaseImage.open({ url: srv.url, size: data.byteLength, sha256: "e".repeat(64), blockSize, blockHashes: hashes, maxBlocksPerRequest: run });
          const ov = await Overlay.secure(base, null, null);
          const before = srv.requests;
          const t0 = performance.now();
          for (let off = 0; off < total; off += 128 * 1024) {
            const got = await ov.read(off, 128 * 1024);
            if (off === 0) expect(got).toEqual(data.subarray(0, 128 * 1024));
          }
          const ms = performance.now() - t0;
          rows.push({ latencyMs, MiB: total / 1048576, blockKiB, perRequestKiB: blockKiB * run, requests: srv.requests - before, ms: Math.round(ms), MiBps: Math.round(total / 1048576 / (ms / 1000)) });
        }
      } finally {
        await srv.close();
      }
    }
    console.table(rows);
  });
});
