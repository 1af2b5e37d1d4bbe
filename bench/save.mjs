// `npm run bench:save`: what the continuous session save (docs/continuous-save.md) costs a busy
// guest. The built-in guest (128 MiB), standby off; each workload runs with session saves off and
// every second, alternating, medians of 5:
//   cpu_slowdown_pct    a shell loop of pure computation (wall time, saves on vs off)
//   disk_slowdown_pct   writes 4 MiB to a file and syncs, 8 times (wall time, saves on vs off)
//   save_pause_ms       guest stopped per save, taken during the disk workload
//   save_persist_ms     a save from its start until stored in IndexedDB, same
//   chain_depth         layers the disk reads through after all of it (saves fold their layers)
import { runBench } from "./lib/harness.mjs";
import { envCount, median, repeat, round1 } from "./lib/stats.mjs";

const RUNS = envCount("SNAP86_BENCH_RUNS", 5);
const CPU = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done";
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
  const slowdown = async (name, command) => {
    const runs = await repeat(RUNS, async (i) => {
      await interval(0);
      const off = await timed(command);
      await interval(1);
      const on = await timed(command);
      note(`${name} run ${i}: saves off ${Math.round(off)} ms, every second ${Math.round(on)} ms`);
      return { off, on };
    });
    return round1((median(runs.map((r) => r.on)) / median(runs.map((r) => r.off)) - 1) * 100);
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
