/**
 * Video memory in saved device states only as far as it holds something. v86 saves its SVGA
 * memory (vga_memory_size: 4 MiB by default) and the VGA pixel buffer (512 KiB) whole in every
 * state. A text-mode guest (the built-in one, DOS, most installers) leaves them zero but for a
 * byte the VGA BIOS writes at 120 KiB, yet copying them was most of a checkpoint's pause: the
 * built-in guest's device state is 6.3 MB with them whole. Each is saved up to its last non-zero
 * byte (rounded up to a 64-byte step, zero-scan.ts), and a restore zeroes the rest.
 *
 * v86 itself restores both with `.set(saved)`, so a shorter array is a state it accepts: it leaves
 * the rest as it was (zero on a fresh machine, which is how an older build opens a share link).
 * Indices are those of VGAScreen.get_state in v86 0.5.462 (libv86-debug.mjs).
 */
import { withOverride } from "./override";
import { usedLength } from "./zero-scan";

const SVGA_MEMORY = 39;
const PIXEL_BUFFER = 61;
const COMPACTED = [SVGA_MEMORY, PIXEL_BUFFER] as const;

/** A typed array or v86's view of wasm memory (a Proxy that forwards to a fresh view per access). */
interface ByteView {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
  readonly length: number;
}

interface VgaDevice {
  svga_memory: ByteView;
  pixel_buffer: ByteView;
  get_state(): unknown[];
  set_state(state: unknown[]): void;
}

export interface DevicesCpu {
  devices?: { vga?: VgaDevice };
  /** Where the SVGA memory lives (scanned with SIMD there). */
  wasm_memory?: WebAssembly.Memory;
}

/** Runs a v86 save_state with the zero tail of video memory left out of the state. */
export function withCompactVideoSave<R>(cpu: DevicesCpu, save: () => R): R {
  const vga = usableVga(cpu);
  if (!vga) return save();
  const original = Object.getPrototypeOf(vga).get_state as VgaDevice["get_state"];
  return withOverride(vga, "get_state", function (this: VgaDevice) {
    const state = original.call(this);
    for (const i of COMPACTED) {
      const memory = bytesOf(state[i] as ByteView);
      if (memory) state[i] = memory.subarray(0, usedLength(memory, cpu.wasm_memory));
    }
    return state;
  }, save);
}

/** Runs a v86 restore_state that zeroes the video memory a compact state left out. */
export function withCompactVideoRestore<R>(cpu: DevicesCpu, restore: () => R): R {
  const vga = usableVga(cpu);
  if (!vga) return restore();
  const original = Object.getPrototypeOf(vga).set_state as VgaDevice["set_state"];
  return withOverride(vga, "set_state", function (this: VgaDevice, state: unknown[]) {
    // Before v86's own set_state: it redraws the screen from this memory at its end.
    zeroBeyond(bytesOf(this.svga_memory), state[SVGA_MEMORY], cpu.wasm_memory);
    zeroBeyond(bytesOf(this.pixel_buffer), state[PIXEL_BUFFER], cpu.wasm_memory);
    original.call(this, state);
  }, restore);
}

function usableVga(cpu: DevicesCpu): VgaDevice | undefined {
  const vga = cpu.devices?.vga;
  if (!vga || !Object.isExtensible(vga) || !bytesOf(vga.svga_memory) || !bytesOf(vga.pixel_buffer)) return undefined;
  return vga;
}

/**
 * Zeroes what a compact state left out (a whole state leaves nothing out), as far as anything
 * is there: reading 4 MiB to find the tail is faster than writing it (a reset does this each time).
 */
function zeroBeyond(memory: Uint8Array | undefined, saved: unknown, wasmMemory: WebAssembly.Memory | undefined): void {
  if (!memory || !(saved instanceof Uint8Array) || saved.byteLength >= memory.byteLength) return;
  const used = usedLength(memory, wasmMemory);
  if (used > saved.byteLength) memory.fill(0, saved.byteLength, used);
}

/** A plain Uint8Array over the same bytes (v86's SVGA memory is a Proxy, saved by v86 under its own type name only as a real array). */
function bytesOf(memory: ByteView | undefined): Uint8Array | undefined {
  if (!memory || typeof memory !== "object") return undefined;
  const { buffer, byteOffset, length } = memory;
  if (!(buffer instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && buffer instanceof SharedArrayBuffer)) || !Number.isInteger(byteOffset) || !Number.isInteger(length)) return undefined;
  return new Uint8Array(buffer, byteOffset, length);
}
