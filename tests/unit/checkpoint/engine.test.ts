import { mkdirSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { copyRam, ramSize, restoreDeviceState, saveDeviceState } from "../../../src/v86/state";
import { bootNodeMachine, machineAvailable, waitFor, type NodeMachine } from "./v86-node";

const kind = machineAvailable();
// busybox ash asks for the cursor position (ESC [6n) right after its prompt.
const PROMPT = /[#$] (\x1b\[6n)?$/;
// SNAP86_DUMP_RAM=1 also writes the RAM images bench/compression.mjs measures (npm run bench:ram-dump).
const dump = (name: string, ram: Uint8Array): void => {
  if (!process.env.SNAP86_DUMP_RAM) return;
  mkdirSync(".cache", { recursive: true });
  writeFileSync(`.cache/${name}`, ram);
};

describe.skipIf(!kind)(`engine with the real v86 (${kind ?? "no machine"})`, () => {
  let m: NodeMachine | undefined;
  afterAll(async () => {
    await m?.emulator.destroy();
  });

  it("saves without RAM, restores RAM through fillRam, and the machine is back", async () => {
    m = await bootNodeMachine(128);
    const { emulator, serial } = m;
    const cpu = emulator.v86.cpu;
    const ownBefore = Object.keys(cpu).filter((k) => k === "pack_memory" || k === "unpack_memory");

    if (m.hasGuest) {
      await waitFor(() => PROMPT.test(serial.text), 120_000, "shell prompt");
      serial.text = "";
      emulator.serial0_send("X=before\n");
      await waitFor(() => PROMPT.test(serial.text), 10_000, "prompt after X=before");
    } else {
      await new Promise((r) => setTimeout(r, 1500));
    }
    await emulator.stop();

    let t = performance.now();
    const state = await saveDeviceState(emulator);
    const saveMs = performance.now() - t;
    t = performance.now();
    const ram = copyRam(emulator);
    const copyMs = performance.now() - t;
    dump("ram-after-boot.bin", ram);
    expect(ram.byteLength).toBe(ramSize(emulator));
    // A full v86 state of this machine holds its non-zero RAM; ours must not.
    let nonZero = 0;
    for (let i = 0; i < ram.length; i += 4096) if (ram.subarray(i, i + 4096).some((b) => b !== 0)) nonZero += 4096;
    expect(nonZero).toBeGreaterThan(0);
    const full = emulator.v86.save_state();
    expect(full.byteLength - state.byteLength).toBeGreaterThanOrEqual(nonZero);
    // Overrides are gone again.
    expect(Object.keys(cpu).filter((k) => k === "pack_memory" || k === "unpack_memory")).toEqual(ownBefore);

    // Mutate: the guest changes its variable (or, BIOS-only, we scribble over RAM).
    await emulator.run();
    if (m.hasGuest) {
      serial.text = "";
      emulator.serial0_send("X=after; echo set-$X\n");
      await waitFor(() => serial.text.includes("set-after"), 10_000, "X=after");
      await emulator.stop();
      dump("ram-after-command.bin", copyRam(emulator));
    } else {
      await new Promise((r) => setTimeout(r, 300));
      await emulator.stop();
    }
    copyRam(emulator).fill(0); // a copy: must not touch the guest
    const live = copyRam(emulator);
    live.fill(0xcc, 0x100000, 0x200000);
    const scribbled = new Uint8Array(cpu.wasm_memory.buffer, cpu.mem8.byteOffset, ramSize(emulator));
    scribbled.set(live.subarray(0x100000, 0x200000), 0x100000);

    let sawZeroed = false;
    t = performance.now();
    restoreDeviceState(emulator, state, (target) => {
      sawZeroed = target[0x100000] === 0 && target[0x1fffff] === 0;
      target.set(ram);
    });
    const restoreMs = performance.now() - t;
    console.log(`device state ${(state.byteLength / 1e6).toFixed(2)} MB (full v86 state ${(full.byteLength / 1e6).toFixed(1)} MB); save ${saveMs.toFixed(0)} ms, copyRam ${copyMs.toFixed(0)} ms, restore ${restoreMs.toFixed(0)} ms`);
    expect(sawZeroed).toBe(true);
    expect(Buffer.compare(copyRam(emulator), ram)).toBe(0);
    expect(Object.keys(cpu).filter((k) => k === "pack_memory" || k === "unpack_memory")).toEqual(ownBefore);

    const counter = emulator.get_instruction_counter();
    await emulator.run();
    if (m.hasGuest) {
      serial.text = "";
      emulator.serial0_send("echo got-$X\n");
      await waitFor(() => /got-\w+/.test(serial.text), 10_000, "echo after restore");
      expect(serial.text).toContain("got-before");
    } else {
      await new Promise((r) => setTimeout(r, 300));
      expect(emulator.get_instruction_counter()).not.toBe(counter);
    }
    await emulator.stop();
  }, 180_000);

  it("leaves the zero tail of video memory out of the state and zeroes it again on restore", async () => {
    if (!m) m = await bootNodeMachine(128);
    const { emulator } = m;
    await emulator.stop();
    const cpu = emulator.v86.cpu as unknown as { devices: { vga: { svga_memory: { buffer: ArrayBuffer; byteOffset: number; length: number }; pixel_buffer: Uint8Array } } };
    const vga = cpu.devices.vga;
    // v86's SVGA memory is a Proxy over wasm memory: look at the bytes themselves.
    const svga = new Uint8Array(vga.svga_memory.buffer, vga.svga_memory.byteOffset, vga.svga_memory.length);
    const ram = copyRam(emulator);
    const before = svga.slice();
    const compact = await saveDeviceState(emulator);
    expect(Object.keys(vga)).not.toContain("get_state");
    svga.fill(0x5a, svga.length >> 1);
    vga.pixel_buffer.fill(0x33);
    restoreDeviceState(emulator, compact, (target) => target.set(ram), true);
    expect(Object.keys(vga)).not.toContain("set_state");
    expect(Buffer.compare(svga, before)).toBe(0);
    expect(vga.pixel_buffer.every((b) => b === 0)).toBe(true);

    // Graphics in the last word: the whole memory goes into the state (a text-mode guest's state
    // holds at most the first 128 KiB of it) and comes back.
    svga[svga.length - 1] = 7;
    const whole = await saveDeviceState(emulator);
    expect(whole.byteLength - compact.byteLength).toBeGreaterThanOrEqual(svga.length - 128 * 1024);
    svga.fill(0x5a);
    restoreDeviceState(emulator, whole, (target) => target.set(ram), true);
    expect(svga[svga.length - 1]).toBe(7);
    expect(svga.subarray(0, svga.length - 1).every((b, i) => b === before[i])).toBe(true);
    svga[svga.length - 1] = 0;
  }, 180_000);
});
