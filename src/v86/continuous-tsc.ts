// v86 0.5.462's set_tsc (src/rust/cpu/cpu.rs) computes `tsc_offset = read_tsc() - wanted`, which
// is only right while the old offset is 0: after it the guest's TSC reads `wanted + old offset`.
// restore_state goes through it, so every restore moved the guest clock forward by however far
// the previous offset had drifted: in place, by about the time the guest ran since the last
// restore, growing with each one. The Debian guest's clocksource is the TSC, so its jiffies
// jumped by tens of seconds (RCU "timer wakeup didn't happen" stalls, then a crash in
// run_timer_softirq). Measured in tests/unit/lazy/lazy-stress.test.ts; eager and lazy restores alike.
//
// Fix: set_state calls `cpu.set_tsc(low, high)` through the instance property, so the instance
// gets a wrapper that feeds v86's set_tsc the argument that yields `wanted`. The guest's own
// WRMSR to the TSC goes through the Rust function directly and is not affected.

/** TSC ticks per millisecond of v86's microtick (TSC_RATE in cpu.rs: a 1 GHz TSC). */
const TSC_PER_MS = 1_000_000;
const U64 = (x: bigint): bigint => BigInt.asUintN(64, x);

export interface TscCpu {
  set_tsc(low: number, high: number): void;
  store_current_tsc(): void;
  /** Two u32 words in wasm memory that store_current_tsc fills. */
  current_tsc: Uint32Array;
}

/** v86's clock (`v86.microtick`) is performance.now() in browsers and in Node. */
export type Microtick = () => number;

export function readTsc(cpu: TscCpu): bigint {
  cpu.store_current_tsc();
  return (BigInt(cpu.current_tsc[1] >>> 0) << 32n) | BigInt(cpu.current_tsc[0] >>> 0);
}

const installed = new WeakSet<object>();

/** Makes restore_state put the guest's TSC exactly where the saved state had it. Idempotent. */
export function keepTscContinuous(cpu: TscCpu, microtick: Microtick = () => performance.now()): void {
  if (installed.has(cpu)) return;
  installed.add(cpu);
  const original = cpu.set_tsc;
  cpu.set_tsc = (low: number, high: number): void => {
    const wanted = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
    // read_tsc = floor(microtick * rate) - offset, so the current offset is recoverable.
    const offset = U64(BigInt(Math.floor(microtick() * TSC_PER_MS)) - readTsc(cpu));
    // v86 leaves TSC = offset + argument (plus time passing): pass wanted - offset.
    const arg = U64(wanted - offset);
    original.call(cpu, Number(arg & 0xffff_ffffn), Number(arg >> 32n));
  };
}

/**
 * How long the machine has run by the guest's own clock: v86 starts the TSC at 0 when it builds
 * the CPU (power-on), and a checkpoint carries it, so this continues across pause, restore and
 * resume exactly as the guest's clock does (its /proc/uptime lags by the firmware's few seconds).
 */
export function guestClockMs(cpu: TscCpu): number {
  return Math.round(Number(readTsc(cpu)) / TSC_PER_MS);
}
