/**
 * Creating a V86 instance with the two hooks snap86 needs before its first frame and its first
 * restore. The only module that constructs v86 or assigns its screen adapter.
 */
import { V86 } from "v86";
import wasmUrl from "v86/build/v86.wasm?url";
import { keepTscContinuous, type TscCpu } from "./continuous-tsc";
import type { V86Instance, V86Options, V86ScreenAdapter, V86StatefulDevice, V86Vga } from "./types";
import type { LazyWasmHandle } from "./instrumented-wasm";
import { WalkRecorder, type RecorderCpu } from "./walk-recorder";
import { DirtyPages } from "./dirty-pages";
import { RamWatch, type WatchedCpu } from "./ram-watch";
import { tuneJit, type JitConfigurable } from "./jit-tuning";

/** The plain (not instrumented) wasm: used where lazy restore is unavailable. */
export const V86_WASM_URL: string = wasmUrl;

/**
 * `onRestoredUart1(present)`: each restore says whether the state had COM2 (states saved before
 * snap86 gave every machine COM2 have none, and their guest has no automation shell there).
 */
export function createV86(
  options: V86Options,
  attachScreen: (adapter: V86ScreenAdapter) => void,
  onRestoredUart1: (present: boolean) => void = () => undefined,
): V86Instance {
  const emulator = new V86(options as never) as unknown as V86Instance;
  // v86 creates its (dummy) screen adapter only after its wasm has loaded; catch the moment
  // it is assigned so our bridge is in place before the VGA device first draws.
  let adapter: V86ScreenAdapter | undefined;
  Object.defineProperty(emulator, "screen_adapter", {
    configurable: true,
    enumerable: true,
    get: () => adapter,
    set: (value: V86ScreenAdapter) => {
      adapter = value;
      attachScreen(value);
    },
  });
  // Before any restore can run: v86's set_tsc would move the guest clock on every restore.
  emulator.add_listener("emulator-loaded", () => keepTscContinuous(emulator.v86.cpu as unknown as TscCpu));
  emulator.add_listener("emulator-loaded", () => tuneJit((emulator.v86.cpu as unknown as { wm: { exports: JitConfigurable } }).wm.exports));
  emulator.add_listener("emulator-loaded", () => {
    const { uart1, virtio_9p, virtio_net } = emulator.v86.cpu.devices;
    acceptStatesWithout(uart1, onRestoredUart1);
    // Checkpoints from before the host folder and the virtio network card have neither.
    acceptStatesWithout(virtio_9p);
    acceptStatesWithout(virtio_net);
  });
  return emulator;
}

/**
 * A state saved by a machine without this device (COM2 before the automation channel, the 9p
 * and virtio-net devices before files and network) has no entry for it (null once the state's
 * JSON was read back), and v86 would hand that to the device's set_state and fail the restore
 * half-way. Such a device keeps its power-on state instead: that guest never used it.
 */
function acceptStatesWithout(device: V86StatefulDevice | undefined, onRestored: (present: boolean) => void = () => undefined): void {
  if (!device) return;
  const setState = device.set_state.bind(device);
  device.set_state = (state: unknown) => {
    const present = state !== undefined && state !== null;
    if (present) setState(state);
    onRestored(present);
  };
}

/** The VGA device, once v86 has built it. */
export function vgaOf(emulator: V86Instance): V86Vga | undefined {
  return emulator.v86?.cpu?.devices?.vga;
}

/** With the instrumented wasm, the machine's page walks feed the working set of its checkpoints. */
export function walkRecorderFor(emulator: V86Instance, handle: LazyWasmHandle): WalkRecorder {
  return new WalkRecorder(emulator.v86.cpu as unknown as RecorderCpu, handle);
}

/** With the instrumented wasm, the pages the machine writes are tracked (src/v86/dirty-pages.ts). */
export function dirtyPagesFor(emulator: V86Instance, handle: LazyWasmHandle): DirtyPages {
  return new DirtyPages(RamWatch.of(emulator.v86.cpu as unknown as WatchedCpu, handle));
}
