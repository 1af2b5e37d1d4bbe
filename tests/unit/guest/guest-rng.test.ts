// Issue 16 part 4: clones get fresh randomness. On the real guest in Node: 10 restores of one
// state with the reseed give 10 different /dev/urandom outputs, and the layout the reseed relies
// on (crng_reseed's distance from entry_SYSENTER_32), which the guest build wrote into guest.json,
// is this kernel's.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { findBaseCrng, learnKernelLayout, reseedGuestRandom, type ReseedCpu } from "../../../src/v86/guest-rng";
import { parseGuestManifest } from "../../../src/protocol/guest-manifest";
import { parseKernelRngLayout } from "../../../scripts/guest/kernel-rng-layout.mjs";
import { bootNodeMachine, machineAvailable, waitFor } from "../checkpoint/v86-node";

// crng_reseed of 6.1.0-50-686 as one boot had it in RAM (base_crng at c5edc0e0): the key's
// eight words, birth (+0x20), generation (+0x24) and the lock (+0x28) are absolute operands.
const CRNG_RESEED =
  "3e8d7426005531d289e5538d5dd883ec2464a1e0e6e5c58945f831c089140383c00483f82072f589d8e8d2fdffffb808c1edc5e8580735008b0d04c1edc589c28b45d883f9fea3e0c0edc58b45dca3e4c0edc58b45e0a3e8c0edc58b45e4a3ecc0edc58b45e8a3f0c0edc58b45eca3f4c0edc58b45f0a3f8c0edc58b45f4a3fcc0edc58d4101b9000000000f44c1a304c1edc5a140ddc3c5a300c1edc589f6b808c1edc5e877073500b92000000031d289d8e8295230008b45f8642b05e0e6e5c575198b5dfcc9c38db4260000000090c705a4ded6c502000000ebc3e81f6234008db426000000008db4260000000090";

describe("the guest build's reading of the layout", () => {
  it("takes crng_reseed, the next symbol and entry_SYSENTER_32 from the shell's line, not from the echoed command", () => {
    expect(parseKernelRngLayout('echo "CRNG:$r:$n:$s"\r\nCRNG:c55cccd0:c55ccdc0:c5923a50\r\n# ')).toEqual({ reseedFromSysenter: 0xc55cccd0 - 0xc5923a50, reseedBytes: 0xf0 });
    expect(parseKernelRngLayout('echo "CRNG:$r:$n:$s"\nCRNG:::\n')).toBeNull();
    // The "next symbol" below crng_reseed, or absurdly far: not a layout.
    expect(parseKernelRngLayout("CRNG:c55cccd0:c55ccc00:c5923a50")).toBeNull();
    expect(parseKernelRngLayout("CRNG:c55cccd0:c56ccdc0:c5923a50")).toBeNull();
  });
});

describe("finding base_crng in crng_reseed", () => {
  it("finds exactly the structure, not a key word next to it", () => {
    expect(findBaseCrng(Buffer.from(CRNG_RESEED, "hex"))?.toString(16)).toBe("c5edc0e0");
  });

  it("finds nothing in other code", () => {
    const other = Buffer.from(CRNG_RESEED, "hex");
    other.writeUInt32LE(0x90909090, other.indexOf(Buffer.from("08c1edc5", "hex"))); // the lock operand
    other.writeUInt32LE(0x90909090, other.indexOf(Buffer.from("08c1edc5", "hex")));
    expect(findBaseCrng(other)).toBeNull();
    expect(findBaseCrng(new Uint8Array(240))).toBeNull();
  });
});

describe.skipIf(machineAvailable() !== "guest")("clones of the Debian guest (Node)", () => {
  it("10 restores of one state give 10 different /dev/urandom outputs", { timeout: 600_000 }, async () => {
    const m = await bootNodeMachine(128);
    const emulator = m.emulator as unknown as typeof m.emulator & { v86: { cpu: ReseedCpu }; save_state(): Promise<ArrayBuffer>; restore_state(s: ArrayBuffer): Promise<void> };
    try {
      await waitFor(() => m.serial.text.includes("# "), 300_000, "the shell prompt");
      const run = async (cmd: string): Promise<string> => {
        const from = m.serial.text.length + cmd.length;
        m.emulator.serial0_send(`${cmd}\n`);
        await waitFor(() => m.serial.text.indexOf("# ", from) > 0, 60_000, cmd);
        return m.serial.text.slice(from, m.serial.text.indexOf("# ", from)).trim();
      };
      const symbols = await run("grep -w -e crng_reseed -e entry_SYSENTER_32 -e add_timer_randomness /proc/kallsyms; uname -r");
      const at = (name: string): number => parseInt(new RegExp(`([0-9a-f]{8}) \\w ${name}`).exec(symbols)![1], 16);
      const release = /\d+\.\d+\.\d+-\d+-686/.exec(symbols)?.[0] ?? "unknown";
      // The guest build read the layout from a boot of this kernel: this boot agrees with it.
      const manifest = parseGuestManifest(JSON.parse(readFileSync("public/guest/guest.json", "utf8")));
      expect(manifest.kernelRelease).toBe(release);
      expect(manifest.kernelRng?.reseedFromSysenter).toBe(at("crng_reseed") - at("entry_SYSENTER_32"));
      // Debian's 6.1 kernels have had add_timer_randomness right after crng_reseed.
      expect(manifest.kernelRng?.reseedBytes).toBe(at("add_timer_randomness") - at("crng_reseed"));
      learnKernelLayout(release, manifest.kernelRng!);

      await m.emulator.stop();
      const state = await emulator.save_state();
      const read = "head -c 16 /dev/urandom | od -An -tx1";
      const restoreAndRead = async (reseed: boolean): Promise<string> => {
        await m.emulator.stop();
        await emulator.restore_state(state);
        if (reseed) expect(reseedGuestRandom(emulator.v86.cpu)).toMatchObject({ ok: true });
        await m.emulator.run();
        // 16 bytes as hex, whatever the terminal put between them.
        const out = await run(read);
        return (/(?:[0-9a-f]{2}\s+){15}[0-9a-f]{2}/.exec(out)?.[0] ?? out).replace(/\s+/g, "");
      };
      // Without the reseed, restores repeat the bytes unless the kernel's own reseed interval
      // (half the uptime early on, 60 s later) happens to pass first: usually, not always.
      const plain = [await restoreAndRead(false), await restoreAndRead(false)];
      const reseeded: string[] = [];
      for (let i = 0; i < 10; i++) reseeded.push(await restoreAndRead(true));
      for (const r of [...plain, ...reseeded]) expect(r).toMatch(/^[0-9a-f]{32}$/);
      expect(new Set(reseeded).size).toBe(10);
      expect(reseeded).not.toContain(plain[0]);
    } finally {
      await m.emulator.destroy();
    }
  });
});
