/** A v86 with no BIOS and no devices to speak of, loaded but never started: for tests of the wasm's own state. */
import { join } from "node:path";
import { V86 } from "v86";

export async function bareV86(): Promise<V86> {
  const emulator = new V86({
    wasm_path: join(process.cwd(), "node_modules/v86/build/v86.wasm"),
    memory_size: 16 << 20,
    vga_memory_size: 1 << 20,
    autostart: false,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  } as ConstructorParameters<typeof V86>[0]);
  await new Promise<void>((resolve) => emulator.add_listener("emulator-loaded", () => resolve()));
  return emulator;
}
