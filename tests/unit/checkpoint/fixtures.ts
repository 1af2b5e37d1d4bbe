/** Small deterministic machines for checkpoint tests (a few MiB, part zero, part compressible). */
import "fake-indexeddb/auto";
import { CheckpointStore } from "../../../src/checkpoint/checkpoint-store";
import type { CaptureInput } from "../../../src/checkpoint/capture";
import type { MachineIdentity } from "../../../src/checkpoint/manifest";

export const MIB = 1024 * 1024;
export const CHUNK = 64 * 1024;

export const MACHINE: MachineIdentity = {
  memoryBytes: 4 * MIB,
  vgaMemoryBytes: 2 * MIB,
  v86Version: "0.5.462",
  guestImageId: "test-guest",
};

let dbCounter = 0;
export function openTestStore(): Promise<CheckpointStore> {
  return CheckpointStore.open(`ckpt-test-${process.pid}-${dbCounter++}-${Math.random().toString(36).slice(2)}`);
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** RAM with every 3rd chunk zero, text-like chunks and a few random ones. */
export function makeRam(seed = 1, size = MACHINE.memoryBytes): Uint8Array {
  const ram = new Uint8Array(size);
  const rand = rng(seed);
  const words = ["kernel", "page", "slab", "inode", "dentry", "task", "0000", "ffff", "\n"];
  for (let c = 0; c < size / CHUNK; c++) {
    if (c % 3 === 0) continue;
    const off = c * CHUNK;
    if (c % 7 === 1) {
      for (let i = 0; i < CHUNK; i++) ram[off + i] = (rand() * 256) | 0;
    } else {
      let i = 0;
      while (i < CHUNK) {
        const w = words[(rand() * words.length) | 0];
        for (let j = 0; j < w.length && i < CHUNK; j++, i++) ram[off + i] = w.charCodeAt(j);
      }
    }
  }
  return ram;
}

/** A fake v86 state: the real 16-byte header magic, then content with zero stretches. */
export function makeDeviceState(seed = 2, size = 300 * 1024): ArrayBuffer {
  const s = new Uint8Array(size);
  const h = new Int32Array(s.buffer, 0, 4);
  h[0] = -2039052682;
  h[1] = 6;
  h[2] = size;
  const rand = rng(seed);
  for (let i = 16; i < 100 * 1024; i++) s[i] = (rand() * 16) | 0;
  return s.buffer;
}

export function captureInput(id: string, ram: Uint8Array, extra: Partial<CaptureInput> = {}): CaptureInput {
  return {
    id,
    parent: null,
    label: `checkpoint ${id}`,
    machine: MACHINE,
    diskLayerId: `layer-${id}`,
    thumbnail: null,
    ram,
    deviceState: makeDeviceState(),
    chunkSize: CHUNK,
    created: 1_700_000_000_000,
    ...extra,
  };
}

/** An image of `size` zero bytes that is never allocated (to test size limits). */
export function zeroImage(imageId: string, size: number, blockSize = 64 * 1024): import("../../../src/disk").BlockSource {
  return {
    imageId,
    size,
    blockSize,
    readBlock: async () => new Uint8Array(blockSize),
    stats: () => ({ imageSize: size, bytesFetched: 0, bytesFromCache: 0, requests: 0, blocksCached: 0 }),
  };
}
