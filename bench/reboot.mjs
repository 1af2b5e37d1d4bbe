// `npm run bench:reboot`: cold boot vs session-wipe reset vs reset with a warm standby, and v86's
// own restore_state of a full saved state, on the same guest in one run. Each figure runs from the
// action to the guest answering run('true'); medians of 5. The *_action_ms fields are the reset
// alone: the guest's serial console needs ~25 ms to answer even an idle `true` (measured in Node:
// the shell's output follows the typed line after ~20 ms in which the guest executes almost
// nothing), which bounds every "until run('true') answers" figure from below. reset() resolves
// once the old session is deleted from IndexedDB (*_wipe_ms), so reset_ms includes that.
import { runBench } from "./lib/harness.mjs";
import { envCount, median, repeat, round1 } from "./lib/stats.mjs";

const RUNS = envCount("SNAP86_BENCH_RUNS", 5);
const COLD_RUNS = envCount("SNAP86_BENCH_COLD_RUNS", RUNS);

/** Reset then run('true'), timed inside the page; `actionMs` is the reset alone. */
const timedReset = (page) =>
  page.evaluate(async () => {
    const t0 = performance.now();
    const outcome = await window.snap86.reset();
    await window.snap86.run("true");
    return { ms: performance.now() - t0, actionMs: outcome.resetMs, wipeMs: outcome.wipeMs, usedStandby: outcome.usedStandby };
  });

await runBench("reboot", async ({ bootFreshPage, note }) => {
  let vm;
  const cold = await repeat(COLD_RUNS, async (i) => {
    vm = await bootFreshPage({});
    note(`cold boot ${i + 1}: ${Math.round(vm.bootMs)} ms`);
    // The last cold-booted guest is the one the resets run on.
    if (i < COLD_RUNS - 1) await vm.context.close();
    return vm.bootMs;
  });
  const { page } = vm;
  await page.evaluate(() => window.snap86.setAutosaveInterval(0));
  await page.evaluate(() => window.snap86.ensureGolden());

  await page.evaluate(() => window.snap86.setStandby(false));
  const resets = await repeat(RUNS, async (i) => {
    await vm.run(`echo ${i} > /root/session`);
    const r = await timedReset(page);
    if (r.usedStandby) throw new Error("standby was used with standby off");
    return r;
  });

  await page.evaluate(() => window.snap86.setStandby(true));
  const standbys = await repeat(RUNS, async (i) => {
    await vm.run(`echo ${i} > /root/session`);
    const status = await page.evaluate(() => window.snap86.waitForStandby({ timeoutMs: 120_000 }));
    if (status !== "ready") throw new Error(`standby is ${status}`);
    const r = await timedReset(page);
    if (!r.usedStandby) throw new Error("standby was not used");
    return r;
  });
  await page.evaluate(() => window.snap86.setStandby(false));

  const v86 = await repeat(RUNS, () =>
    page.evaluate(async () => {
      const m = await window.snap86.measureV86State();
      const t0 = performance.now();
      await window.snap86.run("true");
      return m.restoreMs + (performance.now() - t0);
    }),
  );
  const reset = resets.map((r) => r.ms);
  const standby = standbys.map((r) => r.ms);
  note(`reset: ${reset.map(Math.round).join(", ")} ms; standby: ${standby.map(Math.round).join(", ")} ms; v86: ${v86.map(Math.round).join(", ")} ms`);
  return {
    cold_boot_ms: Math.round(median(cold)),
    reset_ms: round1(median(reset)),
    reset_standby_ms: round1(median(standby)),
    v86_restore_state_ms: round1(median(v86)),
    // The reset alone, without the guest's answer to run('true') (serial + shell latency).
    reset_action_ms: round1(median(resets.map((r) => r.actionMs))),
    reset_standby_action_ms: round1(median(standbys.map((r) => r.actionMs))),
    // Until reset() resolved: the old session's records deleted from IndexedDB (issue 18).
    reset_wipe_ms: round1(median(resets.map((r) => r.wipeMs))),
    reset_standby_wipe_ms: round1(median(standbys.map((r) => r.wipeMs))),
  };
});
