// `npm run bench:boot`: cold boot of the built-in guest in headless Chromium, from navigation of
// a fresh page (fresh browser context) to the first `run('true')` that answers. Median of 3.
import { runBench } from "./lib/harness.mjs";
import { envCount, median, repeat } from "./lib/stats.mjs";

const RUNS = envCount("SNAP86_BENCH_RUNS", 3);
const MEMORY_MIB = 128;

await runBench("boot", async ({ bootFreshPage, note }) => {
  const times = await repeat(RUNS, async (i) => {
    const { context, bootMs } = await bootFreshPage({ memoryMiB: MEMORY_MIB });
    const ms = Math.round(bootMs);
    note(`boot ${i + 1}/${RUNS}: ${ms} ms`);
    await context.close();
    return ms;
  });
  return { boot_to_shell_ms: median(times), memory_mib: MEMORY_MIB };
});
