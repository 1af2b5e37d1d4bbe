/**
 * Save and restore v86 machine state with guest RAM kept OUT of v86's own state blob.
 *
 * v86's save_state packs RAM itself (non-zero 4 KiB pages + bitmap) into one big buffer; we store
 * RAM as content-addressed chunks instead, so we override `cpu.pack_memory` / `cpu.unpack_memory`
 * on the instance for the duration of one synchronous save/restore call and put the original back.
 * Shapes are read off v86 0.5.462 (libv86-debug.mjs, CPU.prototype.get_state/set_state):
 *   get_state: `const {packed_memory, bitmap} = this.pack_memory(); state[77] = packed_memory;
 *               state[78] = new Uint8Array(bitmap.get_buffer());`
 *   set_state: `this.unpack_memory(new Bitmap(state[78].buffer), state[77]);` then TLB/JIT clear.
 */
import { Snap86Error } from "../protocol/errors";
import { currentWalkContext, pagingMode } from "./page-walker";
import { withOverride } from "./override";
import { withCompactVideoRestore, withCompactVideoSave, type DevicesCpu } from "./video-state";

/** The few v86 CPU internals we touch (names survive Closure SIMPLE mode in the npm build). */
export interface EngineCpu {
  wasm_memory: WebAssembly.Memory;
  /** u32 view on wasm memory (a Proxy in v86); [0] is the guest RAM size in bytes. */
  memory_size: { readonly [index: number]: number };
  /** Proxy over the RAM region; only `byteOffset` is read here (cheap, allowed by the Proxy). */
  mem8: { readonly byteOffset: number; readonly length: number };
  pack_memory(): PackedMemory;
  unpack_memory(bitmap: unknown, packed: Uint8Array): void;
  read_blob(offset: number, length: number): Uint8Array;
  write_blob(blob: Uint8Array, offset: number): void;
}

export interface PackedMemory {
  bitmap: { get_buffer(): ArrayBuffer };
  packed_memory: Uint8Array;
}

export interface EngineEmulator {
  v86: {
    cpu: EngineCpu;
    /** Synchronous in v86 0.5.462 (the V86 wrapper's async save_state only forwards to it). */
    save_state(): ArrayBuffer;
    restore_state(state: ArrayBuffer): void;
  };
}

export class EngineError extends Snap86Error<"engine"> {
  override name = "EngineError";
  constructor(message: string) {
    super("engine", message);
  }
}

/** Guest RAM size in bytes as v86 sees it. */
export function ramSize(emulator: EngineEmulator): number {
  return emulator.v86.cpu.memory_size[0] >>> 0;
}

/** A live Uint8Array over guest RAM inside wasm memory. Valid until wasm memory grows. */
export function ramView(emulator: EngineEmulator): Uint8Array {
  const cpu = emulator.v86.cpu;
  // Built fresh each call: a view over a detached (grown) buffer would silently read nothing.
  return new Uint8Array(cpu.wasm_memory.buffer, cpu.mem8.byteOffset, ramSize(emulator));
}

/** The CPU's addressing mode now (paging, PAE), read from v86's registers in wasm memory. */
export function cpuMode(emulator: EngineEmulator): { paging: boolean; pae: boolean } {
  const cpu = emulator.v86.cpu;
  return pagingMode(currentWalkContext({ wasm_memory: cpu.wasm_memory, mem8: cpu.mem8 }, null));
}

const EMPTY_PACK: () => PackedMemory = () => ({
  // A zero-length bitmap: restore's `new Bitmap(state[78].buffer)` accepts any ArrayBuffer.
  bitmap: { get_buffer: () => new ArrayBuffer(0) },
  packed_memory: new Uint8Array(0),
});

/**
 * v86 state (CPU registers, devices, VGA memory, ...) without guest RAM. Must be called between
 * ticks (e.g. with the emulator stopped) so RAM copied with copyRam belongs to the same instant.
 */
export async function saveDeviceState(emulator: EngineEmulator): Promise<ArrayBuffer> {
  const cpu = emulator.v86.cpu;
  return withOverride(cpu, "pack_memory", EMPTY_PACK, () => withCompactVideoSave(cpu as DevicesCpu, () => emulator.v86.save_state()));
}

/**
 * Copies guest RAM out of wasm memory into `staging` (reused if it has the right size, so the
 * caller can recycle a buffer that came back from the capture worker) or a new array.
 */
export function copyRam(emulator: EngineEmulator, staging?: Uint8Array): Uint8Array {
  const view = ramView(emulator);
  const out = staging && staging.byteLength === view.byteLength && staging.buffer.byteLength > 0 ? staging : new Uint8Array(view.byteLength);
  out.set(view);
  return out;
}

/**
 * Restores a device state from saveDeviceState; `fillRam` is called inside v86's set_state, in
 * place of unpack_memory, with RAM already zeroed, and must write every non-zero byte
 * synchronously (decompress chunks before calling this). After it returns v86 clears the TLB
 * and JIT cache, as for a normal restore.
 */
export function restoreDeviceState(
  emulator: EngineEmulator,
  state: ArrayBuffer,
  fillRam: (ram: Uint8Array) => void,
  /** The caller writes every byte of RAM (a full image): zeroing first would only cost time. */
  fillsAll = false,
): void {
  const cpu = emulator.v86.cpu;
  let called = false;
  const unpack = (): void => {
    called = true;
    const ram = ramView(emulator);
    if (!fillsAll) ram.fill(0);
    fillRam(ram);
  };
  withOverride(cpu, "unpack_memory", unpack, () => withCompactVideoRestore(cpu as DevicesCpu, () => emulator.v86.restore_state(state)));
  if (!called) throw new EngineError("v86 restore_state did not reach unpack_memory: unexpected v86 version or state");
}

/**
 * v86's restore_state for a state saved by saveDeviceState when RAM is put back another way (a
 * lazy restore overrides unpack_memory itself): zeroes the video memory a compact state left out.
 */
export function restoreStateKeepingRam(emulator: { v86: { cpu: unknown; restore_state(state: ArrayBuffer): void } }, state: ArrayBuffer): void {
  withCompactVideoRestore(emulator.v86.cpu as DevicesCpu, () => emulator.v86.restore_state(state));
}
