// The guest's clean booted state, published beside the guest image (issue 14, part 3): the
// built-in guest is booted headless under Node with the browser's machine config, captured at
// its settled prompt after the shell's first answer, as the browser's golden checkpoint is
// (device state + 32 KiB zstd RAM chunks, src/checkpoint), and written as a share (src/share) into
// a static folder: content-addressed objects, a manifest and a page pack of the pages the guest,
// going on from the captured instant, walked until it answered the page's question. A first
// visit opens it like a share link, lazily (docs/lazy-restore.md, src/page/start).
// Run by scripts/publish-state.mjs through Vite's module loader (this is TypeScript on Node 20).
import "fake-indexeddb/auto";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { V86 } from "v86";
import { lazyWasmFn } from "../../src/v86/instrumented-wasm";
import { keepTscContinuous, type TscCpu } from "../../src/v86/continuous-tsc";
import { MAX_HOT_PAGES, type RecorderCpu } from "../../src/v86/walk-recorder";
import { RamWatch } from "../../src/v86/ram-watch";
import { quietCommandLine } from "../../src/page/run-command";
import type { LazyWasmHandle } from "../../src/v86/instrumented-wasm";
import { copyRam, saveDeviceState, type EngineEmulator } from "../../src/v86/state";
import { V86_VERSION } from "../../src/v86/version";
import { machineDevices } from "../../src/v86/machine-devices";
import { initCodec } from "../../src/checkpoint/codec";
import { captureCheckpoint } from "../../src/checkpoint/capture";
import { CheckpointStore } from "../../src/checkpoint/checkpoint-store";
import { DEFAULT_CHUNK_SIZE } from "../../src/checkpoint/chunks";
import { LayerStore } from "../../src/disk/layer-store";
import { ShareKeyStore } from "../../src/share/key-store";
import { StoreClient } from "../../src/share/store-client";
import { publishCheckpoint, imageIdOf, type GuestIdentity } from "../../src/share/checkpoint-share";
import { GOLDEN_LABEL } from "../../src/emulator/checkpoint-info";
import { DEFAULT_CONFIG } from "../../src/protocol/machine-config";
import { PUBLISHED_FILE, PUBLISHED_DIR, PUBLISHED_SCHEMA, type PublishedState } from "../../src/protocol/published-state";
import { MISSING_QUERY } from "../../src/protocol/store-http";

const MIB = 1024 * 1024;
/** The guest's init says so on the automation console once it starts the shell there. */
const BOOT_SHELL_STAGE = "snap86-boot: shell";
/** Bump when what is published, or how, changes: the key then differs and the state is rebuilt. */
const BUILDER_VERSION = 2;

export interface BuildPaths {
  readonly guestDir: string;
  readonly lazyWasm: string;
  readonly plainWasm: string;
  /** Hash of this builder's own sources (the runner reads them). */
  readonly builderHash: string;
}

interface GuestJson {
  inputsHash: string;
  cmdline: string;
  files: Record<"bios" | "vgaBios" | "bzimage" | "initrd" | "disk", { path: string; sha256?: string; size: number }>;
}

const sha256 = (data: Uint8Array | string): string => createHash("sha256").update(data).digest("hex");

/** What the published state depends on: the guest build, both v86 wasm files, this builder. */
export function stateKey(paths: BuildPaths): string {
  const guest = JSON.parse(readFileSync(join(paths.guestDir, "guest.json"), "utf8")) as GuestJson;
  return sha256([guest.inputsHash, sha256(readFileSync(paths.plainWasm)), sha256(readFileSync(paths.lazyWasm)), V86_VERSION, BUILDER_VERSION, paths.builderHash].join("\n"));
}

/** The state published for exactly these inputs, if any. */
export function currentState(paths: BuildPaths): PublishedState | undefined {
  const file = join(paths.guestDir, PUBLISHED_DIR, PUBLISHED_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, "utf8")) as PublishedState;
    return state.key === stateKey(paths) ? state : undefined;
  } catch {
    return undefined;
  }
}

/** A store over a folder, for StoreClient: what the share upload asks, answered with files. */
function folderStore(dir: string, baseUrl: string): typeof fetch {
  return async (input, init) => {
    const path = String(input).slice(baseUrl.length + 1);
    if (path === MISSING_QUERY) {
      const names = JSON.parse(String(init?.body)) as string[];
      return new Response(JSON.stringify(names.filter((n) => !existsSync(join(dir, "objects", n)))), { status: 200 });
    }
    const [collection, name] = path.split("/");
    if (init?.method !== "PUT" || (collection !== "objects" && collection !== "manifests") || !/^[0-9a-f]{64}$/.test(name ?? "")) {
      return new Response("not here", { status: 404 }); // the upload query: no presigned URLs, PUTs come here
    }
    const body = new Uint8Array(await new Response(init.body as BodyInit).arrayBuffer());
    mkdirSync(join(dir, collection), { recursive: true });
    writeFileSync(join(dir, collection, name), body);
    return new Response(null, { status: 200 });
  };
}

type NodeEmulator = EngineEmulator & {
  add_listener(event: string, f: (value: number) => void): void;
  serial1_send?(text: string): void;
  serial_send_bytes(port: number, bytes: Uint8Array): void;
  stop(): Promise<void>;
  run(): Promise<void>;
  destroy(): Promise<void>;
  v86: { cpu: RecorderCpu & { devices: { ide: { primary: { master: { buffer: { buffer: ArrayBuffer; get_state(): unknown } } } } } } };
};

/** The guest is left alone this long after its first answer: what is captured is a settled prompt, not the boot's tail. */
const SETTLE_MS = 500;
/**
 * Recorded before the answer is asked for: a first visit's guest runs about this long between
 * its start and the page's question (its timers, scheduler and idle loop touch pages too).
 */
const IDLE_RECORD_MS = 1500;

/**
 * The pack's pages, recorded as a first visit will want them (REAP's record phase, on purpose):
 * the guest goes on from the instant just captured with an empty TLB, so every page it touches
 * is walked, first idle for as long as a page takes to ask, then answering the shell as the
 * page asks it. The pages first walked, in that order, are what an opener fetches before the
 * guest runs. (A window of the boot's last seconds held 3156 pages, 3.8 MB of a 16 MB state,
 * most of them the boot's own, and still missed pages a restored guest wanted.)
 */
async function recordWorkingSet(emulator: NodeEmulator, cpu: RecorderCpu, lazy: LazyWasmHandle, answer: () => Promise<boolean>): Promise<number[]> {
  const order: number[] = [];
  const seen = new Uint8Array(Math.ceil(cpu.memory_size[0] / 4096));
  const watch = RamWatch.of(cpu, lazy);
  watch.setStamp((page) => {
    if (seen[page]) return;
    seen[page] = 1;
    order.push(page);
  });
  cpu.full_clear_tlb();
  try {
    await emulator.run();
    await new Promise((r) => setTimeout(r, IDLE_RECORD_MS));
    if (!(await answer())) throw new Error("the restored shell did not answer");
  } finally {
    await emulator.stop();
    watch.setStamp(null);
  }
  return order.slice(0, MAX_HOT_PAGES);
}

/** Boots, captures the settled prompt, records the pack, publishes. Returns the published description. */
export async function buildPublishedState(paths: BuildPaths, log: (line: string) => void): Promise<PublishedState> {
  const t0 = performance.now();
  const guest = JSON.parse(readFileSync(join(paths.guestDir, "guest.json"), "utf8")) as GuestJson;
  const file = (key: keyof GuestJson["files"]): ArrayBuffer => {
    const data = readFileSync(join(paths.guestDir, guest.files[key].path));
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  };
  const pristine = new Uint8Array(file("disk"));
  const { wasm_fn, loaded } = lazyWasmFn(new Uint8Array(readFileSync(paths.lazyWasm)));
  // The browser's machine (src/emulator/machine-options.ts): the same devices (src/v86/machine-devices.ts), or its restore would differ.
  const emulator = new V86({
    wasm_fn,
    ...machineDevices({ memoryBytes: DEFAULT_CONFIG.memoryMiB * MIB, vgaMemoryBytes: DEFAULT_CONFIG.vgaMemoryMiB * MIB }),
    bios: { buffer: file("bios") },
    vga_bios: { buffer: file("vgaBios") },
    bzimage: { buffer: file("bzimage") },
    initrd: { buffer: file("initrd") },
    cmdline: guest.cmdline,
    hda: { buffer: pristine.slice().buffer },
    autostart: true,
  } as never) as unknown as NodeEmulator;
  let automation = "";
  emulator.add_listener("serial1-output-byte", (byte) => void (automation += String.fromCharCode(byte)));
  const cpu = await new Promise<NodeEmulator["v86"]["cpu"]>((resolve) => emulator.add_listener("emulator-loaded", () => resolve(emulator.v86.cpu)));
  keepTscContinuous(cpu as unknown as TscCpu);
  const lazy = await loaded;
  const waitFor = async (test: () => boolean, what: string, timeoutMs: number): Promise<void> => {
    const deadline = performance.now() + timeoutMs;
    while (!test()) {
      if (performance.now() > deadline) throw new Error(`${what} did not come within ${timeoutMs / 1000} s; automation console tail: ${JSON.stringify(automation.slice(-200))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  /**
   * Asks the shell to answer with the very line the page's waitForShell types (another line runs
   * other code in the shell: its pages would miss from the pack); whether it did within `ms`.
   */
  const probe = (attempt: number, ms: number): Promise<boolean> => {
    const id = `published${attempt}_${Date.now().toString(36)}`;
    const from = automation.length;
    emulator.serial_send_bytes(1, new TextEncoder().encode(quietCommandLine("true", id)));
    return waitFor(() => automation.slice(from).includes(`__SNAP86_${id}_0__`), "the shell's answer", ms).then(
      () => true,
      () => false,
    );
  };
  await waitFor(() => automation.includes(BOOT_SHELL_STAGE), "the guest's shell", 300_000);
  // The shell's first answer (asked again until the getty listens) ends the boot.
  for (let attempt = 0; !(await probe(attempt, 1500)); attempt++) {
    if (attempt > 100) throw new Error(`the guest's shell never answered; automation console tail: ${JSON.stringify(automation.slice(-200))}`);
  }
  const bootMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  await emulator.stop();

  // The disk in the state is a reference to the layer that holds what the boot wrote (as V86Disk's).
  const diskLayerId = `published-${stateKey(paths).slice(0, 16)}`;
  const ide = cpu.devices.ide.primary.master.buffer;
  ide.get_state = () => ["snap86-disk", 1, diskLayerId, pristine.byteLength];
  const deviceState = await saveDeviceState(emulator);
  const ram = copyRam(emulator);
  // A copy: the guest runs on below, and the state is this instant's.
  const written = new Uint8Array(ide.buffer).slice();
  const workingSet = await recordWorkingSet(emulator, cpu, lazy, () => probe(1000, 30_000));
  await emulator.destroy();

  await initCodec();
  const checkpoints = await CheckpointStore.open(`published-${process.pid}`);
  const layers = await LayerStore.open(`published-layers-${process.pid}`);
  const blockSize = (JSON.parse(readFileSync(join(paths.guestDir, `${guest.files.disk.path}.blocks.json`), "utf8")) as { blockSize: number }).blockSize;
  const blocks: Array<readonly [number, Uint8Array]> = [];
  for (let at = 0; at < written.byteLength; at += blockSize) {
    const block = written.subarray(at, at + blockSize);
    if (Buffer.compare(block, pristine.subarray(at, at + blockSize)) !== 0) blocks.push([at / blockSize, block.slice()]);
  }
  const diskFile = guest.files.disk;
  const identity: GuestIdentity = { guestImageId: guest.inputsHash, base: { url: `/guest/${diskFile.path}`, sha256: diskFile.sha256 ?? "", size: diskFile.size } };
  await layers.importLayer({ id: diskLayerId, imageId: imageIdOf(identity.base), blockSize }, blocks);
  const id = `published-${guest.inputsHash.slice(0, 12)}`;
  const manifest = await captureCheckpoint(checkpoints, {
    id,
    parent: null,
    label: GOLDEN_LABEL,
    created: Date.now(),
    machine: { memoryBytes: DEFAULT_CONFIG.memoryMiB * MIB, vgaMemoryBytes: DEFAULT_CONFIG.vgaMemoryMiB * MIB, v86Version: V86_VERSION, guestImageId: guest.inputsHash },
    diskLayerId,
    thumbnail: null,
    ram,
    deviceState,
    chunkSize: DEFAULT_CHUNK_SIZE,
  });

  // Written to a fresh folder, then swapped in: a half-written state is never published.
  const outDir = join(paths.guestDir, PUBLISHED_DIR);
  const tmpDir = `${outDir}.tmp-${process.pid}`;
  rmSync(tmpDir, { recursive: true, force: true });
  mkdirSync(tmpDir, { recursive: true });
  const baseUrl = "folder:";
  const client = new StoreClient({ baseUrl, fetch: folderStore(tmpDir, baseUrl), retries: 0 });
  const keys = await ShareKeyStore.open(`published-keys-${process.pid}`);
  const shared = await publishCheckpoint(
    { checkpoints, layers, keys, client, guest: async () => identity, workingSet: async () => workingSet },
    id,
    "http://published.invalid/",
  );
  const state: PublishedState = {
    schema: PUBLISHED_SCHEMA,
    key: stateKey(paths),
    guestImageId: guest.inputsHash,
    v86Version: V86_VERSION,
    lazyWasmSha256: sha256(readFileSync(paths.lazyWasm)),
    checkpointId: id,
    fragment: shared.link.slice(shared.link.indexOf("#") + 1),
    bytes: shared.uploadedBytes + shared.skippedBytes,
    packBytes: shared.packBytes,
    workingSetPages: workingSet.length,
    bootMs: Math.round(bootMs),
  };
  writeFileSync(join(tmpDir, PUBLISHED_FILE), `${JSON.stringify(state, null, 2)}\n`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(dirname(outDir), { recursive: true });
  renameSync(tmpDir, outDir);
  log(`published the clean booted state: ${(state.bytes / MIB).toFixed(1)} MiB, pack ${(state.packBytes / 1024).toFixed(0)} KiB of ${workingSet.length} pages, ${blocks.length} disk blocks; boot ${(bootMs / 1000).toFixed(1)} s, total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return state;
}
