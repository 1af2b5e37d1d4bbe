// `npm run bench:save`: what the continuous session save (docs/continuous-save.md) costs a busy
// guest. The built-in guest (128 MiB), standby off; each workload runs after a warm-up in 10
// pairs (saves off and every second back to back, alternating which goes first), and the figure is
// the median of the pairs' ratios:
//   cpu_slowdown_pct    a shell loop of pure computation (~5 s; wall time, saves on vs off)
//   disk_slowdown_pct   writes 4 MiB to a file and syncs, 8 times (wall time, saves on vs off)
//   save_pause_ms       guest stopped per save, taken during the disk workload
//   save_persist_ms     a save from its start until stored in IndexedDB, same
//   chain_depth         layers the disk reads through after all of it (saves fold their layers)
import { runBench } from "./lib/harness.mjs";
import { envCount, median, repeat, round1 } from "./lib/stats.mjs";

const RUNS = envCount("SNAP86_BENCH_RUNS", 5);
/** Pairs of runs (saves off, saves every second) per workload. */
const PAIRS = RUNS * 2;
const CPU = "i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done";
const DISK = "for i in 1 2 3 4 5 6 7 8; do dd if=/dev/urandom of=/root/busy bs=1M count=4 2>/dev/null; sync; done";

await runBench("save", async ({ bootFreshPage, note }) => {
  const vm = await bootFreshPage();
  await vm.page.evaluate(() => window.snap86.setStandby(false));
  const interval = (s) => vm.page.evaluate((x) => window.snap86.setAutosaveInterval(x), s);
  const timed = async (command) => {
    const t0 = performance.now();
    await vm.run(command, 600_000);
    return performance.now() - t0;
  };
  // The machine's own speed drifts by more than the cost measured (the same loop took 15-23 s
  // within one run): each pair runs both settings back to back, in alternating order, and the
  // figure is the median of the pairs' ratios, so a drift slower than a pair cancels out.
  const slowdown = async (name, command) => {
    await timed(command); // warm-up: the first run of a loop is slower with either setting (JIT)
    const ratios = await repeat(PAIRS, async (i) => {
      const time = async (seconds) => {
        await interval(seconds);
        return timed(command);
      };
      let off, on;
      if (i % 2 === 0) {
        off = await time(0);
        on = await time(1);
      } else {
        on = await time(1);
        off = await time(0);
      }
      note(`${name} pair ${i}: saves off ${Math.round(off)} ms, every second ${Math.round(on)} ms`);
      return on / off;
    });
    return round1((median(ratios) - 1) * 100);
  };
  const cpu = await slowdown("cpu", CPU);
  const disk = await slowdown("disk", DISK);
  // The saves themselves, during the disk workload: the same call the timer makes.
  await interval(0);
  const busy = vm.run(`for n in $(seq 4); do ${DISK}; done`, 600_000);
  const saves = await repeat(RUNS * 2, () => vm.page.evaluate(() => window.snap86.checkpoint({ autosave: true })));
  await busy;
  for (const s of saves) note(`save: pause ${s.pauseMs} ms, stored in ${s.persistMs} ms, ${s.chunksWritten} chunks`);
  const depth = (await vm.page.evaluate(() => window.snap86.diskInfo())).chainDepth;
  await vm.context.close();
  return {
    cpu_slowdown_pct: cpu,
    disk_slowdown_pct: disk,
    save_pause_ms: round1(median(saves.map((s) => s.pauseMs))),
    save_persist_ms: Math.round(median(saves.map((s) => s.persistMs))),
    chain_depth: depth,
  };
});
