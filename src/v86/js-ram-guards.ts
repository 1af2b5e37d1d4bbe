// v86's JavaScript side touches guest RAM without going through the page walk: physical
// read/write helpers, blob copies used by device DMA (virtio, IDE PIO/DMA reads, multiboot),
// the IDE bus-master write path and ISA DMA (floppy, SB16), which slice `cpu.mem8` directly.
// Each of those must fault the pages in first, or it would read poison / have its writes
// overwritten by a later fault.

/** The parts of v86's CPU object the guards wrap (names survive v86's Closure build). */
export interface GuardedCpu {
  read8(addr: number): number;
  read16(addr: number): number;
  read32s(addr: number): number;
  write8(addr: number, value: number): void;
  write16(addr: number, value: number): void;
  write32(addr: number, value: number): void;
  read_blob(offset: number, length: number): Uint8Array;
  write_blob(blob: Uint8Array, offset: number): void;
  devices?: {
    ide?: { primary?: IdeChannelLike; secondary?: IdeChannelLike };
    dma?: object;
  };
}

interface IdeChannelLike {
  master?: object;
  slave?: object;
}

/** IDE interface fields used by do_ata_write_sectors_dma (v86 src/ide.js). */
interface IdeInterfaceLike {
  cpu: GuardedCpu;
  channel: { prdt_addr: number };
}

/** ISA DMA controller fields used by do_write (v86 src/dma.js). */
interface IsaDmaLike {
  cpu: GuardedCpu;
  channel_count: ArrayLike<number>;
  address_get_8bit(channel: number): number;
}

type EnsureRange = (start: number, length: number) => void;

// Prototype patches are shared by every emulator in the realm; only CPUs registered here pay
// for the checks.
const guardedCpus = new WeakMap<object, EnsureRange>();
const patchedPrototypes = new WeakSet<object>();

const PHYS_METHODS = ["read8", "read16", "read32s", "write8", "write16", "write32"] as const;
const SIZES: Record<(typeof PHYS_METHODS)[number], number> = {
  read8: 1,
  read16: 2,
  read32s: 4,
  write8: 1,
  write16: 2,
  write32: 4,
};

export interface RamGuards {
  /** Removes the instance wrappers; prototype patches stay but become pass-through. */
  uninstall(): void;
}

export interface RamGuardHandlers {
  /** Before any JS read or write of guest RAM (lazy restore: fault the pages in). */
  ensure?: EnsureRange;
  /** Before a JS write of guest RAM, after `ensure` (dirty tracking: record, copy aside). */
  written?: EnsureRange;
}

/**
 * Wraps every JS path into guest RAM so the handlers run first. The wrappers are own properties
 * on the CPU instance (v86 assigns the physical helpers per instance); IDE and DMA objects are
 * sealed, so their prototypes are patched instead. Device writes into RAM (IDE and ISA DMA
 * reads from disk, virtio, multiboot) all go through write_blob.
 */
export function installRamGuards(cpu: GuardedCpu, handlers: RamGuardHandlers): RamGuards {
  const noop: EnsureRange = () => undefined;
  const ensureRange = handlers.ensure ?? noop;
  const written = handlers.written ?? noop;
  const target = cpu as unknown as Record<string, unknown>;
  const saved = new Map<string, { own: boolean; value: unknown }>();
  const wrap = (name: string, make: (orig: (...args: never[]) => unknown) => unknown): void => {
    const orig = target[name] as (...args: never[]) => unknown;
    saved.set(name, { own: Object.prototype.hasOwnProperty.call(target, name), value: orig });
    target[name] = make(orig.bind(cpu) as (...args: never[]) => unknown);
  };

  for (const name of PHYS_METHODS) {
    const size = SIZES[name];
    const writes = name.startsWith("write");
    wrap(name, (orig) => (addr: number, value?: number) => {
      ensureRange(addr >>> 0, size);
      if (writes) written(addr >>> 0, size);
      return (orig as (a: number, v?: number) => unknown)(addr, value);
    });
  }
  wrap("read_blob", (orig) => (offset: number, length: number) => {
    ensureRange(offset >>> 0, length);
    return (orig as (o: number, l: number) => unknown)(offset, length);
  });
  wrap("write_blob", (orig) => (blob: Uint8Array, offset: number) => {
    ensureRange(offset >>> 0, blob.length);
    written(offset >>> 0, blob.length);
    return (orig as (b: Uint8Array, o: number) => unknown)(blob, offset);
  });

  // The patched IDE/DMA paths only read RAM (RAM -> device).
  guardedCpus.set(cpu, ensureRange);
  const ide = cpu.devices?.ide;
  for (const channel of [ide?.primary, ide?.secondary]) {
    for (const drive of [channel?.master, channel?.slave]) {
      if (drive) patchIdeWriteDma(Object.getPrototypeOf(drive) as object);
    }
  }
  if (cpu.devices?.dma) patchIsaDmaWrite(Object.getPrototypeOf(cpu.devices.dma) as object);

  return {
    uninstall() {
      guardedCpus.delete(cpu);
      for (const [name, { own, value }] of saved) {
        if (own) target[name] = value;
        else delete target[name];
      }
    },
  };
}

/** do_ata_write_sectors_dma copies each PRD region out of `cpu.mem8.subarray` (RAM -> disk). */
function patchIdeWriteDma(proto: object): void {
  if (patchedPrototypes.has(proto)) return;
  const p = proto as Record<string, unknown>;
  const orig = p.do_ata_write_sectors_dma;
  if (typeof orig !== "function") return;
  patchedPrototypes.add(proto);
  p.do_ata_write_sectors_dma = function (this: IdeInterfaceLike, ...args: unknown[]) {
    const ensure = guardedCpus.get(this.cpu);
    if (ensure) {
      // Same PRD table walk as v86; the reads go through the guarded read helpers.
      let prd = this.channel.prdt_addr;
      for (let i = 0; i < 65536; i++) {
        const addr = this.cpu.read32s(prd) >>> 0;
        const count = this.cpu.read16(prd + 4) || 0x10000;
        const end = this.cpu.read8(prd + 7) & 0x80;
        ensure(addr, count);
        if (end) break;
        prd += 8;
      }
    }
    return (orig as (...a: unknown[]) => unknown).apply(this, args);
  };
}

/** ISA DMA do_write hands `cpu.mem8.subarray(addr, addr + bytes)` to the device (RAM -> device). */
function patchIsaDmaWrite(proto: object): void {
  if (patchedPrototypes.has(proto)) return;
  const p = proto as Record<string, unknown>;
  const orig = p.do_write;
  if (typeof orig !== "function") return;
  patchedPrototypes.add(proto);
  p.do_write = function (this: IsaDmaLike, buffer: unknown, start: number, len: number, channel: number, fn: unknown) {
    const ensure = guardedCpus.get(this.cpu);
    if (ensure) {
      const count = (this.channel_count[channel] + 1) & 0xffff;
      const bytes = count * (channel >= 5 ? 2 : 1);
      ensure(this.address_get_8bit(channel) >>> 0, bytes);
    }
    return (orig as (...a: unknown[]) => unknown).call(this, buffer, start, len, channel, fn);
  };
}
