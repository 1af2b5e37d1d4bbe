// `npm run bench:lazy`: eager vs lazy restore of the same checkpoint in one run (medians).
// - eager_restore_ms / lazy_first_instruction_ms: restore() call until the emulator runs again
// - lazy_first_response_ms: call until `run("true")` answers after a lazy restore
// - faults_before_response / bytes_loaded_before_response: page faults and chunk bytes the
//   guest pulled in before that answer (read with the guest paused right after it)
// - steady_state_slowdown_pct: a fixed CPU-bound guest loop after the lazy restore's prefetch
//   completed vs after an eager restore (lazy mode must cost nothing once off)
import { chromium } from "playwright-core";
import { launchOptions } from "../scripts/lib/chromium.mjs";
import { median, startApp } from "./lib/app-server.mjs";
import { bootFreshPage } from "./lib/vm.mjs";

const REPS = Number(process.env.SNAP86_BENCH_RUNS ?? 5);
const LOOP = "i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done; echo $i";

/** restore() then run("true"), timed inside the page (no Playwright round trips in the figures). */
function timedRestore(page, id, mode) {
  return page.evaluate(
    async ([id, mode]) => {
      const t0 = performance.now();
      const r = await window.snap86.restore(id, { mode });
      const running = performance.now() - t0;
      await window.snap86.run("true", { timeoutMs: 120_000 });
      const answered = performance.now() - t0;
      if (mode === "lazy") await window.snap86.pause();
      return { mode: r.mode, lazyUnavailable: r.lazyUnavailable, running, answered };
    },
    [id, mode],
  );
}

/** Lazy figures as the status line last showed them (events at 4 Hz; the guest is paused). */
async function lazyFigures(page) {
  await page.waitForTimeout(400);
  return page.evaluate(() => {
    const d = document.getElementById("status-lazy").dataset;
    return { faults: Number(d.faults), faultBytes: Number(d.faultBytes) };
  });
}

async function waitLazyDone(page) {
  await page.waitForFunction(() => document.getElementById("status-lazy")?.dataset.active === "false", null, { timeout: 120_000 });
}

async function loopMs(vm) {
  const t0 = performance.now();
  const out = await vm.run(LOOP);
  if (out.trim() !== "60000") throw new Error(`unexpected loop output: ${out}`);
  return performance.now() - t0;
}

const app = await startApp();
const browser = await chromium.launch(launchOptions());
let result;
try {
  const vm = await bootFreshPage(browser, app.url, { disk: "persistent" });
  const { page } = vm;
  // A guest with some history: 16 MiB of random data in tmpfs and a warm page cache.
  await vm.run("dd if=/dev/urandom of=/tmp/bench bs=1M count=16 2>/dev/null; md5sum /bin/busybox >/dev/null; ls -R /usr >/dev/null");
  const { id } = await page.evaluate(() => window.snap86.checkpoint({ label: "bench-lazy" }));
  const eager = [];
  const eagerLoop = [];
  const first = [];
  const response = [];
  const faults = [];
  const bytes = [];
  const lazyLoop = [];
  for (let i = 0; i < REPS; i++) {
    const e = await timedRestore(page, id, "eager");
    eager.push(e.running);
    // Two loops each: the machine is shared, single samples are noisy.
    eagerLoop.push(await loopMs(vm), await loopMs(vm));

    const l = await timedRestore(page, id, "lazy");
    if (l.mode !== "lazy") throw new Error(`lazy restore unavailable: ${l.lazyUnavailable}`);
    first.push(l.running);
    response.push(l.answered);
    const f = await lazyFigures(page);
    faults.push(f.faults);
    bytes.push(f.faultBytes);
    await page.evaluate(() => window.snap86.resume());
    await waitLazyDone(page);
    lazyLoop.push(await loopMs(vm), await loopMs(vm));
    // Rep 0 is cold; later reps prefetch the working set rep 0 recorded (src/lazy/ram-loader.ts).
    console.error(`rep ${i}: eager ${e.running.toFixed(0)} ms; lazy running ${l.running.toFixed(0)} ms, answered ${l.answered.toFixed(0)} ms, ${f.faults} faults, ${f.faultBytes} B; loop eager ${eagerLoop.at(-1).toFixed(0)} / lazy ${lazyLoop.at(-1).toFixed(0)} ms`);
  }
  const round = (x) => Math.round(x * 10) / 10;
  result = {
    bench: "lazy",
    eager_restore_ms: round(median(eager)),
    lazy_first_instruction_ms: round(median(first)),
    lazy_first_response_ms: round(median(response)),
    faults_before_response: median(faults),
    bytes_loaded_before_response: median(bytes),
    steady_state_slowdown_pct: round((median(lazyLoop) / median(eagerLoop) - 1) * 100),
  };
  await vm.context.close();
} finally {
  await browser.close();
  app.stop();
}
console.log(JSON.stringify(result));
