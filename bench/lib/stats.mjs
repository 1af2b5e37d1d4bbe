// Figures from repeated samples. Benches report medians: the machines are shared, and one slow
// sample (another process taking the CPU) must not move the figure.

export function median(values) {
  if (values.length === 0) throw new Error("median of no samples");
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** One decimal: finer digits are noise on these machines and make lines hard to compare. */
export const round1 = (x) => Math.round(x * 10) / 10;

/**
 * Runs `once(i)` `n` times and returns what each run returned. One after another, never in
 * parallel: concurrent runs would compete for the same cores and measure each other.
 */
export async function repeat(n, once) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await once(i));
  return out;
}

/**
 * A repetition count from the environment (e.g. SNAP86_BENCH_RUNS=1 for a quick check), else
 * `fallback`. Rejects anything but a positive integer: NaN would run zero times and report NaN.
 */
export function envCount(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(raw)}`);
  return n;
}
