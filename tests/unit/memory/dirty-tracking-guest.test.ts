// Engine-level proof of dirty-page tracking on the real Debian guest (Node, instrumented wasm):
// every page whose bytes changed was seen as written; a streamed copy-on-write capture stores
// exactly what a whole-RAM copy at the same instant stores, while the guest writes during the
// read; and a reset that copies back only the written pages gives the golden RAM byte for byte.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Comlink from "comlink";
import { lazyWasmFn } from "../../../src/v86/instrumented-wasm";
import { DirtyPages } from "../../../src/v86/dirty-pages";
import { RamWatch, type WatchedCpu } from "../../../src/v86/ram-watch";
import { copyRam, ramView, saveDeviceState, type EngineEmulator } from "../../../src/v86/state";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { CaptureWriter } from "../../../src/checkpoint/capture-writer";
import { DEFAULT_CHUNK_SIZE } from "../../../src/checkpoint/chunks";
import type { CheckpointStore } from "../../../src/checkpoint/checkpoint-store";
import type { CheckpointManifest, MachineIdentity } from "../../../src/checkpoint/manifest";
import { MemoryTracking } from "../../../src/emulator/memory-tracking";
import { streamCapture } from "../../../src/emulator/ram-stream";
import { resetToGolden, type GoldenImage, type ResettableMachine } from "../../../src/emulator/golden-reset";
import { SparseRam } from "../../../src/emulator/sparse-ram";
import { MAX_DIFFERENCE_SHARE, restoreByDifference } from "../../../src/emulator/eager-restore";
import type { Machine } from "../../../src/emulator/checkpoint-controller";
import { readDeviceState, readRamChunks } from "../../../src/checkpoint/restore";
import type { CaptureJobs } from "../../../src/protocol/checkpoint-io";
import type { RemoteFacets } from "../../../src/protocol/remote";
import { guestAvailable, LAZY_WASM, NodeGuest } from "../lazy/helpers/node-guest";
import { openTestStore } from "../checkpoint/fixtures";

const BOOT_TIMEOUT = 180_000;
type Emulator = EngineEmulator & { stop(): Promise<void>; run(): Promise<void>; is_running(): boolean; serial0_send(s: string): void };

/** The checkpoint-I/O worker's capture jobs, in process, over one store. */
function inProcessIo(store: CheckpointStore): RemoteFacets<{ capture: CaptureJobs }> {
  const writers = new Map<string, CaptureWriter>();
  const jobs: Pick<CaptureJobs, "begin" | "addRam" | "commit" | "abort" | "present"> = {
    present: async (hashes) => [...(await store.hasChunks(hashes))],
    begin: async (meta, deviceState, ramLength, chunkSize, base, baseId) => void writers.set(meta.id, await CaptureWriter.begin(store, { ...meta, deviceState, ramLength, chunkSize, base, baseId })),
    addRam: (id, indices, data, zeros) => writers.get(id)!.addRam(indices, data, zeros),
    commit: async (id) => {
      const w = writers.get(id)!;
      return { manifest: await w.commit(), timings: w.timings };
    },
    abort: async (id) => void (await writers.get(id)?.abort()),
  };
  return { capture: jobs } as unknown as RemoteFacets<{ capture: CaptureJobs }>;
}

/** Pages whose bytes differ between two RAM copies. */
function changedPages(a: Uint8Array, b: Uint8Array): number[] {
  const wa = new Uint32Array(a.buffer, a.byteOffset, a.byteLength >> 2);
  const wb = new Uint32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
  const out: number[] = [];
  for (let page = 0; page < wa.length >> 10; page++) {
    for (let i = page << 10, end = i + 1024; i < end; i++) {
      if (wa[i] !== wb[i]) {
        out.push(page);
        break;
      }
    }
  }
  return out;
}

/** A drive whose disk is always idle and branches at once (these tests are about RAM). */
function fakeDisk(): ResettableMachine["disks"][number] {
  return { kind: "hda", session: { disk: { whenIdle: async () => undefined }, branchFrom: async () => undefined } as unknown as ResettableMachine["disks"][number]["session"] };
}

/** Sent without waiting for its output (a long line is fine there). */
const WRITE_LOAD = "dd if=/dev/urandom of=/root/w bs=64k count=128 2>/dev/null; sync; md5sum /root/w >/dev/null; rm /root/w; sync";
/**
 * The same through run(): short commands, because run() finds its end marker in the echoed line
 * and the guest's terminal wraps lines at 80 columns (prompt included).
 */
const WRITE_STEPS = ["dd if=/dev/urandom of=w bs=64k count=128", "sync; md5sum w >/dev/null", "rm w; sync"];

describe.skipIf(!guestAvailable())("dirty-page tracking on the Debian guest (Node)", () => {
  let guest: NodeGuest;
  let emulator: Emulator;
  let dirty: DirtyPages;
  let tracking: MemoryTracking;
  let machine: MachineIdentity;

  beforeAll(async () => {
    const { wasm_fn, loaded } = lazyWasmFn(LAZY_WASM);
    guest = await NodeGuest.booted({ wasm_fn });
    const handle = await loaded;
    const cpu = await guest.cpu;
    await guest.waitForPrompt(BOOT_TIMEOUT);
    await guest.excludeDiskFromState();
    emulator = guest.emulator as unknown as Emulator;
    dirty = new DirtyPages(RamWatch.of(cpu as unknown as WatchedCpu, handle));
    machine = { memoryBytes: cpu.memory_size[0], vgaMemoryBytes: 2 << 20, v86Version: "0.5.462", guestImageId: "node-test" };
  }, BOOT_TIMEOUT + 10_000);

  afterAll(async () => {
    tracking?.close();
    await guest?.destroy();
  });

  it("sees the first write to every page whose bytes changed (CPU, page tables, disk DMA)", async () => {
    await emulator.stop();
    const before = copyRam(emulator);
    const since = dirty.track();
    await emulator.run();
    // Page cache, process memory, page tables, and disk reads into RAM after the cache is dropped.
    for (const step of ["dd if=/dev/urandom of=k bs=64k count=64", "sync; echo 3 >/proc/sys/vm/drop_caches", "md5sum /bin/busybox k"]) await guest.run(step, 120_000);
    await emulator.stop();
    const after = copyRam(emulator);
    const changed = changedPages(before, after);
    const missed = changed.filter((p) => !since.pages.has(p));
    since.close();
    await emulator.run();
    expect(changed.length).toBeGreaterThan(1000);
    expect(missed).toEqual([]);
  }, 300_000);

  /** The store and the second capture of the streaming test, with its RAM at the capture's instant. */
  let streamedStore: CheckpointStore;
  let secondCapture: { manifest: CheckpointManifest; ram: Uint8Array };

  it("streams a capture while the guest writes and stores exactly what a whole copy at that instant stores", async () => {
    streamedStore = await openTestStore();
    const copiedStore = await openTestStore();
    const io = inProcessIo(streamedStore);
    await emulator.stop();
    tracking = new MemoryTracking(dirty);
    const captureBoth = async (id: string, parent: string | null): Promise<{ streamed: CheckpointManifest; copied: CheckpointManifest; sent: number; staged: number; ram: Uint8Array }> => {
      await emulator.stop();
      const deviceState = await saveDeviceState(emulator);
      const ram = copyRam(emulator);
      const plan = tracking.pause(DEFAULT_CHUNK_SIZE, [], false);
      await emulator.run();
      // The guest writes hard while the snapshot is read: pages it touches first are copied aside.
      emulator.serial0_send(`${WRITE_LOAD}\n`);
      const meta = { id, parent, label: id, created: 1, machine, diskLayerId: null, thumbnail: null };
      const streamed = await streamCapture(io, meta, Comlink.transfer(deviceState.slice(0), []), plan, machine.memoryBytes, () => undefined);
      tracking.captured(plan, id, streamed.manifest.ram.chunks, false);
      const copied = await captureCheckpoint(copiedStore, { ...meta, ram, deviceState, chunkSize: DEFAULT_CHUNK_SIZE });
      // Every chunk the streamed checkpoint names reads back, verified, as the RAM of its instant.
      const named = streamed.manifest.ram.chunks.map((h, i) => [h, i] as const).filter((e): e is readonly [string, number] => e[0] !== null);
      const back = await streamedStore.readVerified(named.map(([h]) => h), id);
      const wrong = named.filter(([, i], k) => Buffer.compare(back[k], ram.subarray(i * DEFAULT_CHUNK_SIZE, (i + 1) * DEFAULT_CHUNK_SIZE)) !== 0);
      expect(wrong).toEqual([]);
      await guest.waitForPrompt(120_000);
      return { streamed: streamed.manifest, copied, sent: streamed.chunksSent, staged: plan.snapshot.stagedTotal, ram };
    };
    const first = await captureBoth("first", null);
    const total = first.copied.ram.chunks.length;
    expect(first.sent).toBe(total); // no base yet: all of RAM
    expect(first.streamed.ram).toEqual(first.copied.ram);
    expect(first.streamed.deviceState).toEqual(first.copied.deviceState);

    for (const step of WRITE_STEPS) await guest.run(step, 120_000);
    const second = await captureBoth("second", "first");
    expect(second.sent).toBeGreaterThan(0);
    expect(second.sent).toBeLessThan(total / 2); // only what was written since "first"
    expect(second.staged).toBeGreaterThan(0); // the copy-on-write path ran
    expect(second.streamed.ram).toEqual(second.copied.ram);
    expect(second.streamed.deviceState).toEqual(second.copied.deviceState);
    expect(second.streamed.sizes.nonZeroBytes).toBe(second.copied.sizes.nonZeroBytes);
    secondCapture = { manifest: second.streamed, ram: second.ram };
  }, 300_000);

  it("restores a stored checkpoint by reading only the chunks RAM differs in, to its RAM byte for byte", async () => {
    const { manifest } = secondCapture;
    // RAM moves on from the checkpoint: files written, caches dropped (a lot of pages).
    for (const step of [...WRITE_STEPS, "echo 3 >/proc/sys/vm/drop_caches"]) await guest.run(step, 120_000);
    const deviceState = await readDeviceState(streamedStore, manifest);
    const asked: number[][] = [];
    const restoring: Machine = { emulator, identity: machine, disks: [fakeDisk()] };
    const restored = await restoreByDifference(restoring, manifest.id, {
      tracking,
      load: { readRamChunks: async (id, indices) => (expect(id).toBe(manifest.id), asked.push([...indices]), readRamChunks(streamedStore, manifest, indices)) },
      deviceState: async () => ({ manifest, deviceState }),
    });
    expect(restored?.id).toBe(manifest.id);
    expect(emulator.is_running()).toBe(false);
    const read = asked.flat();
    expect(read.length).toBeGreaterThan(0);
    expect(read.length).toBeLessThan(manifest.ram.chunks.length * MAX_DIFFERENCE_SHARE);
    expect(changedPages(ramView(emulator), secondCapture.ram)).toEqual([]);
    tracking.restored(manifest.id, manifest.ram.chunks, manifest.chunkSize, true);
    await emulator.run();
    const from = guest.serial.length;
    emulator.serial0_send("echo back-$((40+2))\n");
    await guest.waitFor((t) => t.includes("back-42\r\n"), 120_000, from);
    // Too much differs (tracking knows no base now it is dropped): the caller reads all of RAM.
    tracking.unknown();
    expect(await restoreByDifference(restoring, manifest.id, { tracking, load: { readRamChunks: async () => new Uint8Array(0) }, deviceState: async () => ({ manifest, deviceState }) })).toBeNull();
    expect(emulator.is_running()).toBe(true);
  }, 300_000);

  it("resets by copying back only the pages written since the golden state, to the golden RAM byte for byte", async () => {
    await emulator.stop();
    const goldenState = await saveDeviceState(emulator);
    const goldenCopy = copyRam(emulator);
    const plan = tracking.pause(DEFAULT_CHUNK_SIZE, [], true);
    plan.snapshot.close();
    tracking.captured(plan, "golden", new Array<string | null>(plan.chunks.length).fill(null), true);
    const golden: GoldenImage = { id: "golden", diskLayerId: "layer", deviceState: goldenState, ram: SparseRam.fromFull(goldenCopy, DEFAULT_CHUNK_SIZE), chunks: [], chunkSize: DEFAULT_CHUNK_SIZE };
    await emulator.run();
    for (const step of [...WRITE_STEPS, ...WRITE_STEPS, "echo 3 >/proc/sys/vm/drop_caches"]) await guest.run(step, 120_000);
    const written = tracking.pagesDifferingFrom("golden", [], DEFAULT_CHUNK_SIZE);
    expect(written).not.toBeNull();
    const resettable: ResettableMachine = { emulator, disks: [fakeDisk()] };
    const stateBefore = golden.deviceState.slice(0);
    const copy = await resetToGolden(resettable, golden, written, { paused: true });
    // The golden state is handed to v86 without a copy: the next reset needs it unchanged.
    expect(Buffer.compare(new Uint8Array(golden.deviceState), new Uint8Array(stateBefore))).toBe(0);
    expect(copy.full).toBe(false);
    expect(copy.pages).toBeLessThan(goldenCopy.byteLength / 4096 / 2);
    const after = ramView(emulator).slice();
    // Only the CRNG key the reset writes on purpose (40 bytes in one place) may differ.
    const diff: number[] = [];
    for (let i = 0; i < after.length; i++) if (after[i] !== goldenCopy[i]) diff.push(i);
    expect(diff.length).toBeLessThanOrEqual(0x28);
    if (diff.length > 0) expect(diff.at(-1)! - diff[0]).toBeLessThan(0x28);
    await emulator.run();
    // The golden instant had printed its prompt long before: send without waiting for one.
    const from = guest.serial.length;
    emulator.serial0_send("echo after-$((40+2))\n");
    await guest.waitFor((t) => t.includes("after-42\r\n"), 120_000, from);
  }, 300_000);
});
