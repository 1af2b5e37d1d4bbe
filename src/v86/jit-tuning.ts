/**
 * How v86's JIT cuts hot guest code into wasm modules, set once per machine.
 *
 * v86 compiles hot guest code into a wasm module with one function, spanning up to 3 pages of
 * guest code (MAX_PAGES in v86 0.5.462) plus up to 250 more basic blocks; the browser then compiles
 * that function again. In Chromium 156 the optimizing tier made this the largest cost of the
 * whole machine: a trace of one cold boot of the built-in guest (2 cores) held 186 top-tier
 * compilations taking 149 s of CPU, median 0.5 s and up to 4.3 s each, for a 58 s boot. Their
 * cost grows faster than the function does, so one-page functions cost far less in all (349
 * compilations, 71 s), though there are more of them; the block limit was raised to 300 with it
 * (one page with 20 blocks measured worse). Measured in the same session, medians of 3,
 * standby off: cold boot to the shell 35.3 s against 43.8 s with v86's defaults, a 20 000-round
 * shell loop 8.7 s against 11.9 s. (`--js-flags=--liftoff-only` would do better still, 18 s, but
 * a page cannot choose its tiers and Liftoff code decompresses checkpoints several times slower.)
 */

/** v86's indices for `set_jit_config` (see its `get_jit_config` dump in libv86). */
const MAX_PAGES_INDEX = 1;
const MAX_EXTRA_BASIC_BLOCKS_INDEX = 3;

export const JIT_TUNING: ReadonlyArray<readonly [index: number, value: number]> = [
  [MAX_PAGES_INDEX, 1],
  [MAX_EXTRA_BASIC_BLOCKS_INDEX, 300],
];

export interface JitConfigurable {
  set_jit_config(index: number, value: number): void;
  get_jit_config(index: number): number;
}

/** Applies JIT_TUNING; before the guest runs, so every module is cut the same way. */
export function tuneJit(exports: JitConfigurable): void {
  for (const [index, value] of JIT_TUNING) exports.set_jit_config(index, value);
}
