// `npm run bench:memory`: what checkpoints and resets cost by RAM size, with copy-on-write
// capture and dirty-page tracking (docs/memory-tracking.md). The built-in guest at 128 MiB and at
// 1024 MiB; between checkpoints a workload writes about 8 MiB (an 8 MiB file of random bytes,
// synced); medians of 5.
//   pause_ms_N                 guest stopped during a checkpoint after the workload
//   persist_ms_1024            the first capture of a cold boot (the golden state: no base, all of
//                              RAM read while the guest runs), from the call until stored; one sample
//   incremental_persist_ms_1024  call -> stored, for a checkpoint after the workload
//   reset_action_ms_N          the in-place reset alone (stop, disk branch, device state, the pages
//                              written since the golden state copied back, run), standby off
//   v86_save_state_ms_1024     v86's own save_state of the same machine, same run
//   peak_extra_mib_1024        most memory a capture held beyond the guest's RAM (pages copied
//                              aside + parts not yet stored), the largest over the runs
import { runBench } from "./lib/harness.mjs";
import { envCount, median, repeat, round1 } from "./lib/stats.mjs";

const RUNS = envCount("SNAP86_BENCH_RUNS", 5);
const SIZES = [128, 1024];
const PROMPT = "snap86:~# ";

/** Boots without the automation's own golden capture, so the bench can time the first capture itself. */
async function bootAndTimeFirstCapture(browser, appUrl, memoryMiB) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${appUrl}/?autoboot=0`);
  await page.waitForFunction(() => typeof window.snap86 === "object");
  const persistMs = await page.evaluate(
    async ([config, prompt]) => {
      await window.snap86.setAutosaveInterval(0);
      await window.snap86.setStandby(false);
      await window.snap86.boot(config);
      await window.snap86.waitForSerial(prompt, { timeoutMs: 300_000, fromStart: true });
      const t0 = performance.now();
      await window.snap86.ensureGolden();
      return performance.now() - t0;
    },
    [{ memoryMiB }, PROMPT],
  );
  const run = (command) => page.evaluate((c) => window.snap86.run(c, { timeoutMs: 300_000 }), command);
  await page.evaluate(() => window.snap86.waitForShell({ timeoutMs: 300_000 }));
  return { context, page, run, persistMs };
}

await runBench("memory", async ({ browser, appUrl, note }) => {
  const out = {};
  const bySize = {};
  for (const mib of SIZES) {
    const vm = await bootAndTimeFirstCapture(browser, appUrl, mib);
    note(`${mib} MiB: first capture (all of RAM) stored in ${Math.round(vm.persistMs)} ms`);
    const write = (i) => vm.run(`dd if=/dev/urandom of=/root/w${i} bs=1M count=8 2>/dev/null; sync`);
    const runs = await repeat(RUNS, async (i) => {
      await write(i);
      const cp = await vm.page.evaluate((label) => window.snap86.checkpoint({ label }), `run ${i}`);
      await write(i + 100);
      const reset = await vm.page.evaluate(() => window.snap86.reset());
      if (reset.usedStandby || reset.actionMs === undefined) throw new Error("the reset did not run in place");
      note(
        `${mib} MiB run ${i}: pause ${cp.pauseMs} ms (stop ${round1(cp.pauseParts.stopMs)}, device state ${round1(cp.pauseParts.deviceStateMs)}, RAM set ${round1(cp.pauseParts.ramMs)}), persist ${cp.persistMs} ms (I/O worker: hash ${round1(cp.persistParts?.hashMs)}, compress ${round1(cp.persistParts?.compressMs)}, IndexedDB ${round1(cp.persistParts?.storeWaitMs)}), ${cp.chunksWritten} chunks read, extra ${(cp.peakExtraBytes / 2 ** 20).toFixed(1)} MiB; reset ${round1(reset.actionMs)} ms (device state and pages ${round1(reset.restoreMs)} ms), ${reset.pagesCopied} pages back`,
      );
      return { cp, reset };
    });
    const v86 = mib === 1024 ? await repeat(RUNS, () => vm.page.evaluate(() => window.snap86.measureV86State())) : [];
    bySize[mib] = { vm, runs, v86 };
    await vm.context.close();
  }
  for (const mib of SIZES) {
    const { runs } = bySize[mib];
    out[`pause_ms_${mib}`] = round1(median(runs.map((r) => r.cp.pauseMs)));
  }
  const big = bySize[1024];
  out.persist_ms_1024 = Math.round(big.vm.persistMs);
  out.incremental_persist_ms_1024 = Math.round(median(big.runs.map((r) => r.cp.persistMs)));
  for (const mib of SIZES) out[`reset_action_ms_${mib}`] = round1(median(bySize[mib].runs.map((r) => r.reset.actionMs)));
  out.v86_save_state_ms_1024 = Math.round(median(big.v86.map((v) => v.saveMs)));
  out.peak_extra_mib_1024 = round1(Math.max(...big.runs.map((r) => r.cp.peakExtraBytes)) / 2 ** 20);
  note(`1024 MiB medians: ${median(big.runs.map((r) => r.reset.pagesCopied))} pages reset, ${median(big.runs.map((r) => r.cp.chunksWritten))} chunks read per checkpoint`);
  return out;
});
