/**
 * The fuzz suite's fixed budget: every parser gets SNAP86_FUZZ_RUNS mutated inputs per seed
 * (default small enough for CI on two cores), and the seeds are fixed so a failure reproduces.
 * A longer local run: SNAP86_FUZZ_RUNS=20000 npx vitest run tests/unit/fuzz
 */
export const FUZZ_RUNS = Number(process.env.SNAP86_FUZZ_RUNS ?? 300);
export const FUZZ_SEEDS = [1, 2, 3] as const;
