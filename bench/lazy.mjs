// `npm run bench:lazy`: eager vs lazy restore of the same checkpoint in one run (medians).
// - eager_restore_ms / lazy_first_instruction_ms: restore() call until the emulator runs again
// - lazy_first_response_ms: call until `run("true")` answers after a lazy restore
// - faults_before_response / bytes_loaded_before_response: page faults and chunk bytes the
//   guest pulled in before that answer (read with the guest paused right after it)
// - steady_state_slowdown_pct: a fixed CPU-bound guest loop after the lazy restore's prefetch
//   completed vs after an eager restore (lazy mode must cost nothing once off)
import { runBench } from "./lib/harness.mjs";
import { envCount, median, repeat, round1 } from "./lib/stats.mjs";

const REPS = envCount("SNAP86_BENCH_RUNS", 5);
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

await runBench("lazy", async ({ bootFreshPage, note }) => {
  const vm = await bootFreshPage({ disk: "persistent" });
  const { page } = vm;
  // A guest with some history: 16 MiB of random data in tmpfs and a warm page cache.
  await vm.run("dd if=/dev/urandom of=/tmp/bench bs=1M count=16 2>/dev/null; md5sum /bin/busybox >/dev/null; ls -R /usr >/dev/null");
  const { id } = await page.evaluate(() => window.snap86.checkpoint({ label: "bench-lazy" }));
  const reps = await repeat(REPS, async (i) => {
    const e = await timedRestore(page, id, "eager");
    // Two loops each: the machine is shared, single samples are noisy.
    const eagerLoop = [await loopMs(vm), await loopMs(vm)];

    const l = await timedRestore(page, id, "lazy");
    if (l.mode !== "lazy") throw new Error(`lazy restore unavailable: ${l.lazyUnavailable}`);
    const f = await lazyFigures(page);
    await page.evaluate(() => window.snap86.resume());
    await waitLazyDone(page);
    const lazyLoop = [await loopMs(vm), await loopMs(vm)];
    // Rep 0 is cold; later reps prefetch the working set rep 0 recorded (src/lazy/ram-loader.ts).
    note(`rep ${i}: eager ${e.running.toFixed(0)} ms; lazy running ${l.running.toFixed(0)} ms, answered ${l.answered.toFixed(0)} ms, ${f.faults} faults, ${f.faultBytes} B; loop eager ${eagerLoop[1].toFixed(0)} / lazy ${lazyLoop[1].toFixed(0)} ms`);
    return { e, l, f, eagerLoop, lazyLoop };
  });
  const loops = (key) => median(reps.flatMap((r) => r[key]));
  return {
    eager_restore_ms: round1(median(reps.map((r) => r.e.running))),
    lazy_first_instruction_ms: round1(median(reps.map((r) => r.l.running))),
    lazy_first_response_ms: round1(median(reps.map((r) => r.l.answered))),
    faults_before_response: median(reps.map((r) => r.f.faults)),
    bytes_loaded_before_response: median(reps.map((r) => r.f.faultBytes)),
    steady_state_slowdown_pct: round1((loops("lazyLoop") / loops("eagerLoop") - 1) * 100),
  };
});
