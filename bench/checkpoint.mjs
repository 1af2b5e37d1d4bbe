// `npm run bench:checkpoint`: checkpoints of a booted 128 MiB guest against v86's own
// save_state/restore_state on the same VM, in one run. Medians of 5.
//   pause_ms      guest stopped during a capture
//   persist_ms    call -> checkpoint complete in IndexedDB
//   stored_bytes  compressed bytes of the first checkpoint
//   incremental_stored_bytes  bytes newly stored by a second checkpoint after `echo hi > /root/x`
//   restore_ms    call -> guest answers run('true')
import { chromium } from "playwright-core";
import { launchOptions } from "../scripts/lib/chromium.mjs";
import { median, startApp } from "./lib/app-server.mjs";
import { bootFreshPage } from "./lib/vm.mjs";

const RUNS = Number(process.env.SNAP86_BENCH_RUNS ?? 5);
const app = await startApp();
const browser = await chromium.launch(launchOptions());
let result;
try {
  const vm = await bootFreshPage(browser, app.url, { memoryMiB: 128 });
  const { page } = vm;
  await page.evaluate(() => window.snap86.setAutosaveInterval(0));
  const checkpoint = (label) => page.evaluate((label) => window.snap86.checkpoint({ label }), label);

  const first = await checkpoint("after boot");
  await vm.run("echo hi > /root/x");
  const second = await checkpoint("after echo");

  const pause = [first.pauseMs, second.pauseMs];
  const persist = [first.persistMs, second.persistMs];
  const restore = [];
  const v86Save = [];
  const v86Restore = [];
  let v86Bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    await vm.run(`echo ${i} >> /root/x`);
    const cp = await checkpoint(`run ${i}`);
    pause.push(cp.pauseMs);
    persist.push(cp.persistMs);
    await vm.run("echo changed > /root/x");
    const t0 = performance.now();
    await page.evaluate((id) => window.snap86.restore(id).then(() => window.snap86.run("true")), cp.id);
    restore.push(performance.now() - t0);
    const v = await page.evaluate(() => window.snap86.measureV86State());
    v86Save.push(v.saveMs);
    v86Restore.push(v.restoreMs);
    v86Bytes = v.bytes;
    console.error(`run ${i}: pause ${cp.pauseMs} ms, persist ${cp.persistMs} ms, restore ${Math.round(restore.at(-1))} ms; v86 save ${Math.round(v.saveMs)} ms, restore ${Math.round(v.restoreMs)} ms`);
  }
  const r = (x) => Math.round(x * 10) / 10;
  result = {
    bench: "checkpoint",
    pause_ms: r(median(pause)),
    persist_ms: Math.round(median(persist)),
    stored_bytes: first.storedBytes,
    incremental_stored_bytes: second.newBytes,
    restore_ms: Math.round(median(restore)),
    v86_save_state_ms: Math.round(median(v86Save)),
    v86_restore_state_ms: Math.round(median(v86Restore)),
    v86_state_bytes: v86Bytes,
  };
  await vm.context.close();
} finally {
  await browser.close();
  app.stop();
}
console.log(JSON.stringify(result));
