/**
 * The devices every snap86 machine has, whatever it runs. A saved state restores only into a
 * machine with the same devices, so the browser's machine (src/emulator/machine-options.ts) and
 * the headless boot that publishes the guest's clean state (scripts/published-state/build.ts)
 * both take them from here; scripts/publish-state.mjs hashes this file into the published
 * state's key, so a change here republishes it.
 */
import { FETCH_BACKEND } from "../protocol/network";
import type { V86Options } from "./types";

export interface MachineSize {
  memoryBytes: number;
  vgaMemoryBytes: number;
}

export type MachineDevices = Pick<V86Options, "memory_size" | "vga_memory_size" | "disable_keyboard" | "disable_mouse" | "disable_speaker" | "uart1" | "filesystem" | "net_device">;

export function machineDevices(size: MachineSize, relayUrl: string = FETCH_BACKEND): MachineDevices {
  return {
    memory_size: size.memoryBytes,
    vga_memory_size: size.vgaMemoryBytes,
    // v86's keyboard and mouse adapters listen on the page's window; keys come as scancodes instead.
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
    // COM2 on every machine, so every checkpoint has the same devices; only the built-in guest
    // runs a shell on it (its automation channel).
    uart1: true,
    // The host folder (/mnt/host) and the network card, on every machine for the same reason.
    filesystem: {},
    net_device: { type: "virtio", relay_url: relayUrl },
  };
}
