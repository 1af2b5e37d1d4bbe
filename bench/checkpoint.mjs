// `npm run bench:checkpoint`: checkpoints of a booted 128 MiB guest against v86's own
// save_state/restore_state on the same VM, in one run. Medians of 5.
//   pause_ms      guest stopped during a capture
//   persist_ms    call -> checkpoint complete in IndexedDB
//   stored_bytes  compressed bytes of the first checkpoint
//   incremental_stored_bytes  bytes newly stored by a second checkpoint after `echo hi > /root/x`
//   restore_ms    call -> guest answers run('true')
import { runBench } from "./lib/harness.mjs";
import { envCount, median, repeat, round1 } from "./lib/stats.mjs";

const RUNS = envCount("SNAP86_BENCH_RUNS", 5);

await runBench("checkpoint", async ({ bootFreshPage, note }) => {
  const vm = await bootFreshPage({ memoryMiB: 128 });
  const { page } = vm;
  await page.evaluate(() => window.snap86.setAutosaveInterval(0));
  const checkpoint = (label) => page.evaluate((label) => window.snap86.checkpoint({ label }), label);

  const first = await checkpoint("after boot");
  await vm.run("echo hi > /root/x");
  const second = await checkpoint("after echo");

  const runs = await repeat(RUNS, async (i) => {
    await vm.run(`echo ${i} >> /root/x`);
    const cp = await checkpoint(`run ${i}`);
    await vm.run("echo changed > /root/x");
    const t0 = performance.now();
    await page.evaluate((id) => window.snap86.restore(id).then(() => window.snap86.run("true")), cp.id);
    const restoreMs = performance.now() - t0;
    const v = await page.evaluate(() => window.snap86.measureV86State());
    note(`run ${i}: pause ${cp.pauseMs} ms, persist ${cp.persistMs} ms, restore ${Math.round(restoreMs)} ms; v86 save ${Math.round(v.saveMs)} ms, restore ${Math.round(v.restoreMs)} ms`);
    return { cp, restoreMs, v };
  });
  // The first two captures count towards pause and persist as well, as they always have.
  const captures = [first, second, ...runs.map((r) => r.cp)];
  return {
    pause_ms: round1(median(captures.map((c) => c.pauseMs))),
    persist_ms: Math.round(median(captures.map((c) => c.persistMs))),
    stored_bytes: first.storedBytes,
    incremental_stored_bytes: second.newBytes,
    restore_ms: Math.round(median(runs.map((r) => r.restoreMs))),
    v86_save_state_ms: Math.round(median(runs.map((r) => r.v.saveMs))),
    v86_restore_state_ms: Math.round(median(runs.map((r) => r.v.restoreMs))),
    v86_state_bytes: runs.at(-1).v.bytes,
  };
});
