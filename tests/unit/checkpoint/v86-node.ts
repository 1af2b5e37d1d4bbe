/**
 * Boots the real v86 in Node for engine tests. Uses the built guest (public/guest/guest.json)
 * when present; otherwise a BIOS named by SNAP86_BIOS / SNAP86_VGA_BIOS (BIOS-only machine).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { V86 } from "v86";
import type { EngineEmulator } from "../../../src/v86/state";
import { cachedBootState, restoreAtShell } from "../helpers/boot-cache";
import { keepTscContinuous, type TscCpu } from "../../../src/v86/continuous-tsc";

const GUEST_JSON = "public/guest/guest.json";

export interface NodeMachine {
  emulator: EngineEmulator & {
    run(): Promise<void>;
    stop(): Promise<void>;
    destroy(): Promise<void>;
    serial0_send(data: string): void;
    add_listener(event: string, fn: (arg: number) => void): void;
    get_instruction_counter(): number;
    save_state(): Promise<ArrayBuffer>;
    restore_state(state: ArrayBuffer): Promise<void>;
  };
  hasGuest: boolean;
  serial: { text: string };
}

interface GuestFiles {
  files: Record<string, { path: string }>;
  cmdline: string;
  memoryMiB: number;
}

function buf(path: string): { buffer: ArrayBuffer } {
  const b = readFileSync(path);
  return { buffer: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) };
}

export function machineAvailable(): "guest" | "bios" | null {
  if (existsSync(GUEST_JSON)) return "guest";
  if (process.env.SNAP86_BIOS && existsSync(process.env.SNAP86_BIOS)) return "bios";
  return null;
}

/**
 * A running machine: the built guest at its shell (restored from the run's one boot, see
 * boot-cache.ts; callers wait for the prompt it prints), or a BIOS-only machine booting.
 */
export async function bootNodeMachine(memoryMiB = 128): Promise<NodeMachine> {
  const kind = machineAvailable();
  if (!kind) throw new Error("no guest and no SNAP86_BIOS");
  if (kind === "bios") return createMachine(memoryMiB, "bios", true);
  const state = await cachedBootState(`node-machine-${memoryMiB}`, async () => {
    const m = await createMachine(memoryMiB, "guest", true);
    try {
      await waitFor(() => /# (\x1b\[6n)?$/.test(m.serial.text), 300_000, "the shell prompt of the cold boot");
      await m.emulator.stop();
      return await m.emulator.save_state();
    } finally {
      await m.emulator.destroy();
    }
  });
  const m = await createMachine(memoryMiB, "guest", false);
  await restoreAtShell(m.emulator, state);
  return m;
}

async function createMachine(memoryMiB: number, kind: "guest" | "bios", autostart: boolean): Promise<NodeMachine> {
  const options: Record<string, unknown> = {
    wasm_path: join(process.cwd(), "node_modules/v86/build/v86.wasm"),
    memory_size: memoryMiB * 1024 * 1024,
    vga_memory_size: 2 * 1024 * 1024,
    autostart,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
    uart1: true, // COM2, as in the app: the guest runs its automation shell there
  };
  if (kind === "guest") {
    const g = JSON.parse(readFileSync(GUEST_JSON, "utf8")) as GuestFiles;
    const at = (p: string): string => join(dirname(GUEST_JSON), p);
    options.bios = buf(at(g.files.bios.path));
    options.vga_bios = buf(at(g.files.vgaBios.path));
    options.bzimage = buf(at(g.files.bzimage.path));
    options.initrd = buf(at(g.files.initrd.path));
    options.hda = buf(at(g.files.disk.path));
    options.cmdline = g.cmdline;
  } else {
    options.bios = buf(process.env.SNAP86_BIOS as string);
    if (process.env.SNAP86_VGA_BIOS) options.vga_bios = buf(process.env.SNAP86_VGA_BIOS);
  }
  const emulator = new (V86 as unknown as new (o: Record<string, unknown>) => NodeMachine["emulator"])(options);
  const serial = { text: "" };
  emulator.add_listener("serial0-output-byte", (b: number) => {
    serial.text += String.fromCharCode(b);
  });
  await new Promise<void>((resolve) => emulator.add_listener("emulator-ready", () => resolve()));
  // As the app's worker does: a restore puts the guest's clock where the state had it. (Without
  // it, a second restore moves the TSC by the first one's offset and the guest's timers stall.)
  keepTscContinuous((emulator as unknown as { v86: { cpu: TscCpu } }).v86.cpu);
  return { emulator, hasGuest: kind === "guest", serial };
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
