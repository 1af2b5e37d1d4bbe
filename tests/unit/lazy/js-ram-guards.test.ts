import { describe, expect, it } from "vitest";
import { installRamGuards, type GuardedCpu } from "../../../src/v86/js-ram-guards";

/** Stand-ins shaped like v86's sealed IDE interface and DMA controller. */
class FakeIde {
  constructor(
    public cpu: GuardedCpu,
    public channel: { prdt_addr: number },
  ) {
    Object.seal(this);
  }
  do_ata_write_sectors_dma(): string {
    return "ide-original";
  }
}

class FakeDma {
  channel_count = new Uint16Array(8);
  constructor(public cpu: GuardedCpu) {
    Object.seal(this);
  }
  address_get_8bit(channel: number): number {
    return channel === 2 ? 0x9000 : 0;
  }
  do_write(_buffer: unknown, _start: number, _len: number, channel: number): string {
    return `dma-original-${channel}`;
  }
}

function fakeCpu(ram: DataView) {
  const cpu = {
    read8: (a: number) => ram.getUint8(a),
    read16: (a: number) => ram.getUint16(a, true),
    read32s: (a: number) => ram.getInt32(a, true),
    write8: (a: number, v: number) => ram.setUint8(a, v),
    write16: (a: number, v: number) => ram.setUint16(a, v, true),
    write32: (a: number, v: number) => ram.setInt32(a, v, true),
    devices: {} as NonNullable<GuardedCpu["devices"]>,
  } as GuardedCpu & { devices: NonNullable<GuardedCpu["devices"]> };
  // v86 defines the blob helpers on the prototype, the physical ones per instance
  Object.setPrototypeOf(cpu, {
    read_blob(this: unknown, offset: number, length: number) {
      return new Uint8Array(ram.buffer, offset, length);
    },
    write_blob(this: unknown, blob: Uint8Array, offset: number) {
      new Uint8Array(ram.buffer).set(blob, offset);
    },
  });
  return cpu;
}

describe("installRamGuards", () => {
  it("ensures ranges before every physical helper and blob copy, and uninstalls cleanly", () => {
    const ram = new DataView(new ArrayBuffer(0x10000));
    const cpu = fakeCpu(ram);
    const originalRead8 = cpu.read8;
    const calls: Array<[number, number]> = [];
    const guards = installRamGuards(cpu, { ensure: (start, length) => void calls.push([start, length]) });

    cpu.write32(0x100, 0x1234_5678);
    expect(cpu.read32s(0x100)).toBe(0x1234_5678);
    cpu.read8(0x2fff);
    cpu.write16(0x3000, 7);
    expect(cpu.read16(0x3000)).toBe(7);
    cpu.write8(0x4000, 1);
    cpu.write_blob(new Uint8Array(0x1800), 0x5800);
    expect(cpu.read_blob(0x6000, 16)).toHaveLength(16);
    expect(calls).toEqual([
      [0x100, 4],
      [0x100, 4],
      [0x2fff, 1],
      [0x3000, 2],
      [0x3000, 2],
      [0x4000, 1],
      [0x5800, 0x1800],
      [0x6000, 16],
    ]);

    guards.uninstall();
    expect(cpu.read8).toBe(originalRead8);
    expect(Object.prototype.hasOwnProperty.call(cpu, "read_blob")).toBe(false);
    cpu.read_blob(0, 4);
    expect(calls).toHaveLength(8);
  });

  it("faults in every PRD region before an IDE bus-master write, only for guarded CPUs", () => {
    const ram = new DataView(new ArrayBuffer(0x10000));
    const cpu = fakeCpu(ram);
    // PRD table at 0x800: two regions, the second one flagged as last
    ram.setUint32(0x800, 0x2000, true);
    ram.setUint16(0x804, 0x1000, true);
    ram.setUint32(0x808, 0x7000, true);
    ram.setUint16(0x80c, 0x0200, true);
    ram.setUint8(0x80f, 0x80);
    const ide = new FakeIde(cpu, { prdt_addr: 0x800 });
    cpu.devices.ide = { primary: { master: ide } };
    const calls: Array<[number, number]> = [];
    const guards = installRamGuards(cpu, { ensure: (start, length) => void calls.push([start, length]) });

    expect(ide.do_ata_write_sectors_dma()).toBe("ide-original");
    const regions = calls.filter(([, length]) => length > 8);
    expect(regions).toEqual([
      [0x2000, 0x1000],
      [0x7000, 0x200],
    ]);

    guards.uninstall();
    calls.length = 0;
    const other = new FakeIde(fakeCpu(ram), { prdt_addr: 0x800 });
    expect(other.do_ata_write_sectors_dma()).toBe("ide-original");
    expect(ide.do_ata_write_sectors_dma()).toBe("ide-original");
    expect(calls).toEqual([]);
  });

  it("faults in the source of an ISA DMA transfer to a device", () => {
    const cpu = fakeCpu(new DataView(new ArrayBuffer(0x10000)));
    const dma = new FakeDma(cpu);
    dma.channel_count[2] = 0x1ff; // 0x200 bytes on an 8-bit channel
    cpu.devices.dma = dma;
    const calls: Array<[number, number]> = [];
    installRamGuards(cpu, { ensure: (start, length) => void calls.push([start, length]) });
    expect(dma.do_write(null, 0, 0x200, 2)).toBe("dma-original-2");
    expect(calls).toEqual([[0x9000, 0x200]]);
  });
});
