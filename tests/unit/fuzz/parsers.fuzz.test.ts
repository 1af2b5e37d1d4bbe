import { beforeAll, describe, expect, it } from "vitest";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { decodeChunk, encodeChunk, initCodec } from "../../../src/checkpoint/codec";
import { diskSectionImporter } from "../../../src/checkpoint/disk-sections";
import { exportCheckpointBlob, importCheckpoint, type ExtraSection } from "../../../src/checkpoint/export-format";
import { crc32 } from "../../../src/checkpoint/crc32";
import { LayerStore } from "../../../src/disk/layer-store";
import { Snap86Error } from "../../../src/protocol/errors";
import { decodeObject, isSharedCheckpoint } from "../../../src/share/checkpoint-share";
import { ShareError } from "../../../src/share/errors";
import { parseShareLink } from "../../../src/share/link";
import { parseShareManifest, SHARE_MANIFEST_VERSION } from "../../../src/share/manifest-codec";
import { encodeFrame } from "../../../src/share/object-frame";
import { decodePackPart, encodePackPart, PACK_PAGE_SIZE } from "../../../src/share/page-pack";
import { captureInput, makeRam, openTestStore } from "../checkpoint/fixtures";
import { freshDb } from "../disk/helpers";
import { mulberry32, mutateBytes, mutateString, type Prng } from "../share/prng";
import { FUZZ_RUNS, FUZZ_SEEDS } from "./budget";

// Every parser that takes outside bytes, fed mutations of valid inputs: each must either accept
// or fail with its typed error (never a TypeError, RangeError or an untyped Error), and never
// allocate beyond what its caller bounds. Issue 16, part 5.
const utf8 = (s: string) => new TextEncoder().encode(s);

function mutateMany(rng: Prng, input: Uint8Array): Uint8Array {
  let out = input;
  for (let r = 1 + rng.int(3); r > 0; r--) out = mutateBytes(rng, out);
  return out;
}

/** Runs `parse` over mutations of `valid`; returns how often each outcome happened. */
async function fuzz(seed: number, valid: Uint8Array, parse: (input: Uint8Array) => unknown, typed: (e: unknown) => boolean): Promise<Map<string, number>> {
  const rng = mulberry32(seed);
  const outcomes = new Map<string, number>();
  for (let i = 0; i < FUZZ_RUNS; i++) {
    const input = mutateMany(rng, valid);
    let outcome = "accepted";
    try {
      await parse(input);
    } catch (e) {
      if (!typed(e)) throw new Error(`seed ${seed} run ${i}: untyped failure ${String(e)} for ${Buffer.from(input).toString("hex").slice(0, 200)}`);
      outcome = (e as Snap86Error).code ?? "refused";
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  return outcomes;
}

const isShareError = (e: unknown) => e instanceof ShareError;

beforeAll(() => initCodec());

describe.each(FUZZ_SEEDS)("fuzz (seed %i)", (seed) => {
  it("share links", async () => {
    const link = `https://snap86.test/app/#share=${"ab".repeat(32)}.${"A".repeat(42)}E`;
    const rng = mulberry32(seed);
    for (let i = 0; i < FUZZ_RUNS; i++) {
      let input = link;
      for (let r = 1 + rng.int(3); r > 0; r--) input = mutateString(rng, input);
      const parsed = parseShareLink(input);
      if (!parsed.ok) expect(parsed.error).toBeInstanceOf(ShareError);
    }
  });

  it("share manifests (decrypted plaintext)", async () => {
    const store = await openTestStore();
    await captureCheckpoint(store, captureInput("m", makeRam(seed), { diskLayerId: null }));
    const manifest = await store.getManifest("m");
    const envelope = {
      version: 2, // the built-in guest's envelope (base, no images)
      checkpoint: { manifest, disk: null, sealedBytes: 100 },
      objects: { ["cd".repeat(32)]: "ef".repeat(32) },
      base: { url: "/guest/rootfs.ext4", sha256: "01".repeat(32), size: 4096 },
      pack: { name: "23".repeat(32), parts: [100, 200] },
    };
    const valid = utf8(JSON.stringify(envelope));
    expect(() => parseShareManifest(valid, isSharedCheckpoint)).not.toThrow();
    const outcomes = await fuzz(seed, valid, (input) => parseShareManifest(input, isSharedCheckpoint), isShareError);
    expect(outcomes.get("damaged")).toBeGreaterThan(0);
  });

  it("pack parts", async () => {
    const data = new Uint8Array(4 * PACK_PAGE_SIZE).map((_, i) => (i * 31) & 0xff);
    const valid = encodePackPart({ checkpointId: "ckpt", pages: [0, 5, 9, 2], data });
    expect(decodePackPart(valid, "ckpt", 16).pages).toEqual([0, 5, 9, 2]);
    const outcomes = await fuzz(seed, valid, (input) => decodePackPart(input, "ckpt", 16), isShareError);
    expect(outcomes.get("damaged")).toBeGreaterThan(0);
  });

  it("shared object frames and their zstd payloads", async () => {
    const raw = new Uint8Array(16 * 1024).map((_, i) => (i >> 5) & 0xff);
    const enc = encodeChunk(raw);
    const valid = encodeFrame({ codecId: enc.codec === "zstd" ? 1 : 0, rawLength: raw.byteLength, encoded: enc.bytes });
    const before = process.memoryUsage().rss;
    const outcomes = await fuzz(seed, valid, (input) => decodeObject("k", input, 64 * 1024), isShareError);
    expect(outcomes.get("damaged")).toBeGreaterThan(0);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
  });

  it("zstd chunks with a caller-bounded length", async () => {
    const raw = new Uint8Array(32 * 1024).map((_, i) => (i * 7) >> 9);
    const valid = encodeChunk(raw).bytes;
    const rng = mulberry32(seed);
    for (let i = 0; i < FUZZ_RUNS; i++) {
      const input = mutateMany(rng, valid);
      try {
        expect(decodeChunk(input, "zstd", raw.byteLength).byteLength).toBe(raw.byteLength);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
      }
    }
  });

  it(".snap86 files, with their checksum recomputed so mutations reach the records", async () => {
    const source = await openTestStore();
    await captureCheckpoint(source, captureInput("f", makeRam(seed), { diskLayerId: "layer-f" }));
    const sections: ExtraSection[] = [
      { kind: "disk-block", layerId: "layer-f", blockIndex: 3, bytes: new Uint8Array(4096).fill(1) },
      { kind: "disk-layer", layerId: "layer-f", meta: utf8(JSON.stringify({ imageId: "sha256:" + "0".repeat(64), blockSize: 4096 })) },
    ];
    const valid = new Uint8Array(await (await exportCheckpointBlob(source, "f", sections)).arrayBuffer());
    const fixCrc = (file: Uint8Array): Uint8Array => {
      if (file.byteLength < 16 + 16) return file;
      const out = file.slice();
      const dv = new DataView(out.buffer);
      dv.setUint32(out.byteLength - 4, crc32(out.subarray(0, out.byteLength - 4)), true);
      return out;
    };
    const runs = Math.max(20, Math.floor(FUZZ_RUNS / 10)); // each import opens two databases
    const rng = mulberry32(seed);
    for (let i = 0; i < runs; i++) {
      const input = rng.next() < 0.5 ? fixCrc(mutateMany(rng, valid)) : mutateMany(rng, valid);
      const target = await openTestStore();
      const layers = new LayerStore(await freshDb());
      try {
        await importCheckpoint(target, input, diskSectionImporter(layers, "layer-f"));
      } catch (e) {
        if (!(e instanceof Snap86Error)) throw new Error(`seed ${seed} run ${i}: untyped failure ${String(e)}`);
        expect(await target.listManifests()).toEqual([]);
      }
    }
  });
});
