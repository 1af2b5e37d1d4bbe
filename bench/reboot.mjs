// `npm run bench:reboot`: cold boot vs session-wipe reset vs reset with a warm standby, and v86's
// own restore_state of a full saved state, on the same guest in one run. Each figure runs from the
// action to the guest answering run('true'); medians of 5. The *_action_ms fields are the reset
// alone: the guest's serial console needs ~25 ms to answer even an idle `true` (measured in Node:
// the shell's output follows the typed line after ~20 ms in which the guest executes almost
// nothing), which bounds every "until run('true') answers" figure from below.
import { chromium } from "playwright-core";
import { launchOptions } from "../scripts/lib/chromium.mjs";
import { median, startApp } from "./lib/app-server.mjs";
import { bootFreshPage } from "./lib/vm.mjs";

const RUNS = Number(process.env.SNAP86_BENCH_RUNS ?? 5);
const COLD_RUNS = Number(process.env.SNAP86_BENCH_COLD_RUNS ?? RUNS);
const app = await startApp();
const browser = await chromium.launch(launchOptions());
const ms = (x) => Math.round(x * 10) / 10;
let result;
try {
  const cold = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const vm = await bootFreshPage(browser, app.url, {});
    cold.push(vm.bootMs);
    console.error(`cold boot ${i + 1}: ${Math.round(vm.bootMs)} ms`);
    if (i < COLD_RUNS - 1) await vm.context.close();
    else result = { vm };
  }
  const { vm } = result;
  const { page } = vm;
  await page.evaluate(() => window.snap86.setAutosaveInterval(0));
  await page.evaluate(() => window.snap86.ensureGolden());
  const timedReset = () =>
    page.evaluate(async () => {
      const t0 = performance.now();
      const outcome = await window.snap86.reset();
      await window.snap86.run("true");
      return { ms: performance.now() - t0, actionMs: outcome.resetMs, usedStandby: outcome.usedStandby };
    });

  await page.evaluate(() => window.snap86.setStandby(false));
  const reset = [];
  const resetAction = [];
  const standbyAction = [];
  for (let i = 0; i < RUNS; i++) {
    await vm.run(`echo ${i} > /root/session`);
    const r = await timedReset();
    if (r.usedStandby) throw new Error("standby was used with standby off");
    reset.push(r.ms);
    resetAction.push(r.actionMs);
  }

  await page.evaluate(() => window.snap86.setStandby(true));
  const standby = [];
  for (let i = 0; i < RUNS; i++) {
    await vm.run(`echo ${i} > /root/session`);
    const status = await page.evaluate(() => window.snap86.waitForStandby({ timeoutMs: 120_000 }));
    if (status !== "ready") throw new Error(`standby is ${status}`);
    const r = await timedReset();
    if (!r.usedStandby) throw new Error("standby was not used");
    standby.push(r.ms);
    standbyAction.push(r.actionMs);
  }
  await page.evaluate(() => window.snap86.setStandby(false));

  const v86 = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await page.evaluate(async () => {
      const m = await window.snap86.measureV86State();
      const t0 = performance.now();
      await window.snap86.run("true");
      return m.restoreMs + (performance.now() - t0);
    });
    v86.push(r);
  }
  console.error(`reset: ${reset.map(Math.round).join(", ")} ms; standby: ${standby.map(Math.round).join(", ")} ms; v86: ${v86.map(Math.round).join(", ")} ms`);
  result = {
    bench: "reboot",
    cold_boot_ms: Math.round(median(cold)),
    reset_ms: ms(median(reset)),
    reset_standby_ms: ms(median(standby)),
    v86_restore_state_ms: ms(median(v86)),
    // The reset alone, without the guest's answer to run('true') (serial + shell latency).
    reset_action_ms: ms(median(resetAction)),
    reset_standby_action_ms: ms(median(standbyAction)),
  };
  await vm.context.close();
} finally {
  await browser.close();
  app.stop();
}
console.log(JSON.stringify(result));
