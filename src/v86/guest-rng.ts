/**
 * Fresh randomness for every copy of a guest (issue 16, part 4; docs/clones.md). A checkpoint
 * holds the guest kernel's CRNG state, so every restore of it (reset, standby, share open,
 * resume) would hand out the same "random" bytes until the kernel reseeds on its own (60 s).
 * Before guest code runs on, this writes 32 bytes of host entropy over the kernel's base CRNG
 * key and moves its generation on: Linux (5.18+) re-derives every per-CPU key and drops every
 * batch of buffered random words whose generation differs, so the next read of /dev/urandom,
 * getrandom() or get_random_u32() comes from the new key.
 *
 * Finding the key without symbols: the Debian kernel has no data symbols (KALLSYMS_ALL is off)
 * and KASLR moves it on every boot. The SYSENTER MSR holds the address of entry_SYSENTER_32
 * (kernel text, set at boot), which gives the KASLR offset; crng_reseed() lies at a known
 * distance from it in this kernel build, and its code names `base_crng` by absolute address:
 * the key (+0), birth (+0x20), generation (+0x24) and lock (+0x28). The one address with all
 * four in the function's bytes is base_crng. Nothing is written unless the
 * kernel release is known and exactly one such address is found in RAM.
 */

import type { KernelRngLayout } from "../protocol/guest-manifest";

/** Where the kernel image sits in virtual memory (CONFIG_PAGE_OFFSET of the i386 kernel). */
const PAGE_OFFSET = 0xc0000000;

export type { KernelRngLayout };

/**
 * Releases measured by hand from /proc/kallsyms, for guests built before guest.json carried the
 * layout. A guest build now reads its kernel's layout itself (guest.json `kernelRng`, learned
 * below when a machine loads it), so a new Debian kernel needs no line here.
 */
export const KERNEL_RNG_LAYOUTS: Readonly<Record<string, KernelRngLayout>> = {
  // 6.1.0-50-686 (6.1.176-1), one boot's /proc/kallsyms: crng_reseed c55c7c90, the next symbol
  // (add_timer_randomness) c55c7d80, entry_SYSENTER_32 c591a010 (= the SYSENTER_EIP MSR).
  "6.1.0-50-686": { reseedFromSysenter: 0xc55c7c90 - 0xc591a010, reseedBytes: 0xf0 },
  // 6.1.0-57-686 (6.1.192-3), the same way: crng_reseed c55cccd0, add_timer_randomness c55ccdc0,
  // entry_SYSENTER_32 c5923a50. Debian replaces the kernel the guest build downloads now and then:
  // guest-rng.test.ts fails for a release missing here, and clones of it get no fresh key until
  // its line is added.
  "6.1.0-57-686": { reseedFromSysenter: 0xc55cccd0 - 0xc5923a50, reseedBytes: 0xf0 },
};

/** Layouts of the guests this worker has loaded (guest.json `kernelRng`), by kernel release. */
const learned = new Map<string, KernelRngLayout>();

/** A guest's manifest names its kernel's layout: reseeds of its machines use it. */
export function learnKernelLayout(release: string, layout: KernelRngLayout): void {
  learned.set(release, layout);
}

function layoutOf(release: string): KernelRngLayout | undefined {
  return learned.get(release) ?? (Object.hasOwn(KERNEL_RNG_LAYOUTS, release) ? KERNEL_RNG_LAYOUTS[release] : undefined);
}

/** Guest physical memory as this module needs it; a lazy restore loads pages on access. */
export interface GuestRam {
  readonly size: number;
  read(phys: number, length: number): Uint8Array;
  write(phys: number, bytes: Uint8Array): void;
}

export type ReseedResult = { readonly ok: true; readonly baseCrngPhys: number } | { readonly ok: false; readonly reason: string };

const KEY_BYTES = 32;
const OFFSETS = [0, 0x20, 0x24, 0x28] as const;

/** base_crng's virtual address, from crng_reseed's code; null unless exactly one candidate. */
export function findBaseCrng(code: Uint8Array): number | null {
  const dv = new DataView(code.buffer, code.byteOffset, code.byteLength);
  const words = new Set<number>();
  for (let i = 0; i + 4 <= code.byteLength; i++) {
    const w = dv.getUint32(i, true);
    if (w >= PAGE_OFFSET) words.add(w);
  }
  const found = new Set<number>();
  for (const w of words) {
    for (const off of OFFSETS) {
      const base = w - off;
      if (base < PAGE_OFFSET) continue;
      // All four: a key word (+4..+0x1c) next to birth/generation/lock would match three.
      if (OFFSETS.every((o) => words.has(base + o))) found.add(base);
    }
  }
  return found.size === 1 ? [...found][0] : null;
}

/** Writes host entropy over the guest kernel's CRNG key; see the module comment. */
export function reseedGuestCrng(ram: GuestRam, sysenterEip: number, release: string, entropy: (n: number) => Uint8Array): ReseedResult {
  const layout = layoutOf(release);
  if (!layout) return { ok: false, reason: `no CRNG layout for kernel ${release}` };
  const eip = sysenterEip >>> 0;
  if (eip < PAGE_OFFSET) return { ok: false, reason: "the guest kernel has not set up SYSENTER yet" };
  const reseedPhys = eip + layout.reseedFromSysenter - PAGE_OFFSET;
  if (reseedPhys < 0 || reseedPhys + layout.reseedBytes > ram.size) return { ok: false, reason: "crng_reseed lies outside RAM" };
  const base = findBaseCrng(ram.read(reseedPhys, layout.reseedBytes));
  if (base === null) return { ok: false, reason: "base_crng not found in crng_reseed" };
  const phys = base - PAGE_OFFSET;
  if (phys + 0x2c > ram.size) return { ok: false, reason: "base_crng lies outside RAM" };
  const state = ram.read(phys, 0x28);
  const dv = new DataView(state.buffer, state.byteOffset, state.byteLength);
  const generation = dv.getUint32(0x24, true);
  // ULONG_MAX marks a per-CPU state that never took a key: the kernel skips it, and so do we.
  const next = generation + 1 === 0xffffffff ? 0 : (generation + 1) >>> 0;
  const update = new Uint8Array(0x28);
  update.set(entropy(KEY_BYTES), 0);
  update.set(state.subarray(KEY_BYTES, 0x24), KEY_BYTES); // birth unchanged
  new DataView(update.buffer).setUint32(0x24, next, true);
  ram.write(phys, update);
  return { ok: true, baseCrngPhys: phys };
}

/** The v86 CPU fields this module reads (v86 0.5.462; views into wasm memory, maybe Proxies). */
export interface ReseedCpu {
  memory_size: { readonly [index: number]: number };
  /** The SYSENTER_EIP MSR; absent on a v86 that does not expose it. */
  sysenter_eip?: { readonly [index: number]: number };
  /** v86's physical RAM helpers: the RAM watch guards them (lazy fill, dirty tracking). */
  read_blob(offset: number, length: number): Uint8Array;
  write_blob(blob: Uint8Array, offset: number): void;
}

/**
 * Reseeds the guest kernel's CRNG of a machine just restored, before it runs again. RAM is read
 * and written through v86's blob helpers, so a lazy restore loads the pages first and dirty
 * tracking sees the write (call it after tracking learned of the restore). Every known layout is
 * tried (a user's own kernel matches none and is left alone: the result says why).
 */
export function reseedGuestRandom(cpu: ReseedCpu): ReseedResult {
  const eip = Number(cpu.sysenter_eip?.[0]);
  if (!Number.isFinite(eip)) return { ok: false, reason: "this v86 does not expose SYSENTER_EIP" };
  const size = cpu.memory_size[0] >>> 0;
  const ram: GuestRam = {
    size,
    // A copy: read_blob returns a view into wasm memory.
    read: (phys, length) => cpu.read_blob(phys, length).slice(),
    write: (phys, bytes) => cpu.write_blob(bytes, phys),
  };
  const entropy = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
  let last: ReseedResult = { ok: false, reason: "no known kernel" };
  for (const release of new Set([...learned.keys(), ...Object.keys(KERNEL_RNG_LAYOUTS)])) {
    last = reseedGuestCrng(ram, eip, release, entropy);
    if (last.ok) return last;
  }
  return last;
}
