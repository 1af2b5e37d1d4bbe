// Runs the project's Debian guest (public/guest/), or a test floppy with its BIOS, under v86 in Node
// for engine-level tests.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { V86 } from "v86";
import { ensureLazyWasm, LAZY_WASM_PATH } from "./ensure-lazy-wasm";
import { cachedBootState, restoreAtShell } from "../../helpers/boot-cache";
import { keepTscContinuous, type TscCpu } from "../../../../src/v86/continuous-tsc";
import type { LazyCpu } from "../../../../src/v86/lazy-ram";
import type { V86WasmFn } from "../../../../src/v86/instrumented-wasm";

export const ROOT = join(import.meta.dirname, "..", "..", "..", "..");
export const GUEST_DIR = join(ROOT, "public", "guest");
export const ORIGINAL_WASM = join(ROOT, "node_modules", "v86", "build", "v86.wasm");
export const LAZY_WASM = LAZY_WASM_PATH;
/** The guest's PS1 ends like this (scripts/guest/guest-files.mjs). */
export const PROMPT_END = "# ";

interface GuestJson {
  cmdline: string;
  memoryMiB: number;
  files: Record<"bios" | "vgaBios" | "bzimage" | "initrd" | "disk", { path: string }>;
}

/** The guest is built by scripts/build-guest.mjs (slow, needs apt); without it these tests skip. */
export function guestAvailable(): boolean {
  if (!existsSync(join(GUEST_DIR, "guest.json"))) return false;
  ensureLazyWasm();
  return true;
}

function readGuest() {
  const manifest = JSON.parse(readFileSync(join(GUEST_DIR, "guest.json"), "utf8")) as GuestJson;
  const file = (key: keyof GuestJson["files"]): ArrayBuffer => {
    const data = readFileSync(join(GUEST_DIR, manifest.files[key].path));
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  };
  return { manifest, file };
}

type Cpu = LazyCpu & {
  cr: ArrayLike<number>;
  devices: { ide: { primary: { master: { buffer: DiskBuffer } } } };
};
interface DiskBuffer {
  buffer: ArrayBuffer;
  get_state(): unknown;
  set_state(state: unknown): void;
}

// CSI sequences such as ESC [ 6 n; the guest's output never needs them.
const CSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const stripCsi = (text: string): string => text.replace(CSI, "");

export class NodeGuest {
  readonly emulator: V86;
  readonly cpu: Promise<Cpu>;
  #serial = "";
  /** Sampled on every serial byte (e.g. a fault counter); `probeLog[i]` belongs to byte i. */
  probe: (() => number) | null = null;
  readonly probeLog: number[] = [];
  /** Raw serial index of the first output byte of the last run(). */
  lastOutputStart = -1;

  /** `floppy`: boots that floppy image instead of the Debian guest (same BIOS and memory size). */
  constructor(opts: { wasm_fn?: V86WasmFn; disk?: ArrayBuffer; floppy?: ArrayBuffer; boot: boolean }) {
    const { manifest, file } = readGuest();
    const media = opts.floppy
      ? { fda: { buffer: opts.floppy } }
      : { bzimage: { buffer: file("bzimage") }, initrd: { buffer: file("initrd") }, hda: { buffer: opts.disk ?? file("disk") }, cmdline: manifest.cmdline };
    this.emulator = new V86({
      wasm_fn: opts.wasm_fn as ((o: WebAssembly.Imports) => Promise<WebAssembly.Exports>) | undefined,
      wasm_path: opts.wasm_fn ? undefined : ORIGINAL_WASM,
      bios: { buffer: file("bios") },
      vga_bios: { buffer: file("vgaBios") },
      ...media,
      memory_size: manifest.memoryMiB << 20,
      vga_memory_size: 2 << 20,
      autostart: opts.boot,
      disable_speaker: true,
      uart1: true, // COM2, as in the app: the guest runs its automation shell there
    } as ConstructorParameters<typeof V86>[0]);
    this.emulator.add_listener("serial0-output-byte", (byte: number) => {
      if (this.probe) this.probeLog[this.#serial.length] = this.probe();
      this.#serial += String.fromCharCode(byte);
    });
    this.cpu = new Promise((resolve) => {
      this.emulator.add_listener("emulator-loaded", () => {
        const cpu = (this.emulator as unknown as { v86: { cpu: Cpu } }).v86.cpu;
        // As the app's worker does: restores must not move the guest's clock (see continuous-tsc.ts).
        keepTscContinuous(cpu as unknown as TscCpu);
        resolve(cpu);
      });
    });
  }

  /**
   * A guest at its shell, restored from the run's one cold boot (see boot-cache.ts) into a
   * machine with `wasm_fn` (e.g. the instrumented wasm): for tests about what runs after boot.
   */
  static async booted(opts: { wasm_fn?: V86WasmFn } = {}): Promise<NodeGuest> {
    const state = await cachedBootState("node-guest", async () => {
      const cold = new NodeGuest({ boot: true });
      try {
        await cold.waitForPrompt(300_000);
        await cold.emulator.stop();
        return await cold.emulator.save_state();
      } finally {
        await cold.destroy();
      }
    });
    const guest = new NodeGuest({ ...opts, boot: false });
    await guest.cpu;
    await restoreAtShell(guest.emulator, state);
    return guest;
  }

  /** Serial output so far, without terminal control sequences (busybox asks for the cursor position). */
  get serial(): string {
    return stripCsi(this.#serial);
  }

  /** Resolves once serial output after `from` matches; polls at ~10 ms steps. */
  async waitFor(test: (text: string) => boolean, timeoutMs: number, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const text = stripCsi(this.#serial.slice(from));
      if (test(text)) return text;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timeout; serial tail: ${JSON.stringify(this.#serial.slice(-300))}`);
  }

  async waitForPrompt(timeoutMs: number): Promise<void> {
    await this.waitFor((t) => t.endsWith(PROMPT_END), timeoutMs);
  }

  /** Runs a shell command over serial and returns its output (echo and prompt removed). */
  async run(command: string, timeoutMs = 30_000): Promise<string> {
    // A freshly restored instance has printed nothing yet; its prompt is in the old instance.
    if (this.#serial.length > 0) await this.waitForPrompt(timeoutMs);
    const from = this.#serial.length;
    const marker = `__done_${Math.random().toString(36).slice(2)}`;
    // The echo of the command line shows the marker quoted, so only the shell's output matches.
    const echoed = `${marker.slice(0, 6)}''${marker.slice(6)}`;
    this.emulator.serial0_send(`${command}; echo ${echoed}\n`);
    const bodyOf = (t: string): string | null => {
      const echo = t.indexOf(echoed);
      const lineEnd = echo < 0 ? -1 : t.indexOf("\n", echo);
      return lineEnd < 0 ? null : t.slice(lineEnd + 1);
    };
    const text = await this.waitFor((t) => {
      const body = bodyOf(t);
      if (body === null) return false;
      return new RegExp(`(^|\\n)${marker}\\r?\\n`).test(body);
    }, timeoutMs, from);
    const rawEcho = this.#serial.indexOf(echoed, from);
    this.lastOutputStart = this.#serial.indexOf("\n", rawEcho) + 1;
    const body = bodyOf(text)!;
    return body.slice(0, body.search(new RegExp(`${marker}\\r?\\n`))).replace(/\r/g, "");
  }

  /** The IDE disk's current contents (copied), to give another instance the same disk. */
  async diskCopy(): Promise<ArrayBuffer> {
    return (await this.cpu).devices.ide.primary.master.buffer.buffer.slice(0);
  }

  /** Keeps the disk out of saved states: the tests hand disks over with diskCopy(). */
  async excludeDiskFromState(): Promise<void> {
    const disk = (await this.cpu).devices.ide.primary.master.buffer;
    const size = disk.buffer.byteLength;
    disk.get_state = () => [size, new Uint8Array(0)];
    disk.set_state = () => {};
  }

  async destroy(): Promise<void> {
    await this.emulator.destroy();
  }
}
