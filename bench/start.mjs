// `npm run bench:start`: how long each way of starting the built-in guest takes, from navigation
// to the shell's first answer, each in a fresh browser profile:
//  - cold_boot_ms: `?boot=cold`, a BIOS boot (unthrottled: the guest files are local);
//  - first_visit_to_shell_ms: a first visit, which starts from the published clean state
//    (scripts/publish-state.mjs) over a throttled network (CDP: 50 Mbit/s, 20 ms latency), and the
//    published bytes fetched by then (first_visit_bytes_before_shell, of published_state_bytes);
//  - reload_to_shell_ms: a reload of a running session (resumes the newest autosave);
//  - reload_lost_ms: a guest loop appends its uptime to a file and syncs every 100 ms; the guest
//    time between the last entry written before the reload and the newest one found after it
//    (entries the resumed guest wrote itself are told apart by the host time it has run since);
//  - v86_saved_state_start_ms: a page like v86's demos fetches a whole zstd v86 state
//    (bench/lib/v86-saved-state.mjs), restore_state, shell; throttled like the first visit.
// Medians of SNAP86_BENCH_RUNS (default 5; cold boots and reloads SNAP86_BENCH_SLOW_RUNS, default 3).
// The conditions (load average) go to stderr; the last line is exactly the result.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { runBench } from "./lib/harness.mjs";
import { envCount, median, repeat } from "./lib/stats.mjs";
import { ROOT } from "../scripts/lib/setup.mjs";
import { demoPage, v86SavedState } from "./lib/v86-saved-state.mjs";

const MBIT = 1_000_000 / 8;
const THROTTLE = { offline: false, latency: 20, downloadThroughput: 50 * MBIT, uploadThroughput: 50 * MBIT };
const RUNS = envCount("SNAP86_BENCH_RUNS", 5);
const SLOW_RUNS = envCount("SNAP86_BENCH_SLOW_RUNS", 3);
/** After an autosave newer than the loop, the reload comes this much later (guest writes meanwhile). */
const RELOAD_AFTER_SAVE_MS = 5000;
const SHELL_TIMEOUT_MS = 180_000;

async function freshPage(browser, throttled) {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (throttled) {
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", THROTTLE);
  }
  return { context, page };
}

const shell = (page) => page.evaluate((t) => window.snap86.waitForShell({ timeoutMs: t }), SHELL_TIMEOUT_MS);
const run = (page, command) => page.evaluate((c) => window.snap86.run(c, { timeoutMs: 60_000 }), command);

async function coldBoot(browser, appUrl) {
  const { context, page } = await freshPage(browser, false);
  const t0 = performance.now();
  await page.goto(`${appUrl}/?boot=cold`);
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await shell(page);
  const ms = performance.now() - t0;
  await context.close();
  return ms;
}

/** A first visit; the page is kept open when `keep` (the reload measurement goes on from it). */
async function firstVisit(browser, appUrl, note, keep = false) {
  const { context, page } = await freshPage(browser, true);
  let bytes = 0;
  let shellAt = Infinity;
  // Published objects finished before the shell answered (workers' fetches included).
  context.on("requestfinished", (request) => {
    const finishedAt = performance.now();
    if (!new URL(request.url()).pathname.startsWith("/guest/state/")) return;
    void request.sizes().then((s) => {
      if (finishedAt <= shellAt) bytes += s.responseBodySize;
    }, () => undefined);
  });
  const t0 = performance.now();
  await page.goto(`${appUrl}/`);
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await shell(page);
  shellAt = performance.now();
  const ms = shellAt - t0;
  const start = await page.evaluate(() => document.documentElement.dataset.start);
  if (start !== "published") throw new Error(`the first visit did not start from the published state (data-start=${start}): ${await page.locator("#notice").textContent()}`);
  await new Promise((r) => setTimeout(r, 200)); // sizes() of requests that finished just before
  note(`first visit: shell after ${Math.round(ms)} ms, ${bytes} published bytes fetched by then`);
  if (!keep) await context.close();
  return { ms, bytes, context, page };
}

/** Reload of a running session; the loss is measured by the guest's own timestamp log. */
async function reload(page, note) {
  await page.evaluate(() => window.snap86.ensureGolden());
  await run(page, "rm -f /root/ts.log; (while :; do cut -d' ' -f1 /proc/uptime >> /root/ts.log; sync; sleep 0.1; done) </dev/null >/dev/null 2>&1 &");
  const loopStarted = Date.now();
  // The newest autosave, taken after the loop began.
  for (;;) {
    const list = await page.evaluate(() => window.snap86.checkpoints());
    if (list.some((c) => c.autosave && c.created > loopStarted)) break;
    await page.waitForTimeout(250);
  }
  await page.waitForTimeout(RELOAD_AFTER_SAVE_MS);
  const before = Number((await run(page, "tail -n1 /root/ts.log")).trim());
  const t0 = performance.now();
  await page.reload();
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await shell(page);
  const ms = performance.now() - t0;
  const start = await page.evaluate(() => document.documentElement.dataset.start);
  if (start !== "resumed") throw new Error(`the reload did not resume (data-start=${start})`);
  const { text, sinceStartMs } = await page.evaluate(async () => {
    const text = await window.snap86.run("cat /root/ts.log; cut -d' ' -f1 /proc/uptime");
    return { text, sinceStartMs: performance.now() - Number(document.documentElement.dataset.startedAt) };
  });
  const entries = text.trim().split("\n").map(Number);
  const now = entries.pop();
  const resumedAt = now - sinceStartMs / 1000;
  const found = Math.max(...entries.filter((t) => t <= resumedAt));
  const lost = Math.max(0, (before - found) * 1000);
  note(`reload: shell after ${Math.round(ms)} ms; last entry before ${before}, found after ${found}: ${Math.round(lost)} ms of guest time lost`);
  await run(page, "kill %1 2>/dev/null; true");
  return { ms, lost };
}

async function v86Demo(browser, appUrl, saved) {
  const { context, page } = await freshPage(browser, true);
  const require = createRequire(import.meta.url);
  const build = dirname(require.resolve("v86"));
  const files = {
    "/__v86-demo/": { body: demoPage(saved.guest), contentType: "text/html" },
    "/__v86-demo/libv86.mjs": { path: join(build, "libv86.mjs"), contentType: "text/javascript" },
    "/__v86-demo/v86.wasm": { path: join(build, "v86.wasm"), contentType: "application/wasm" },
    "/__v86-demo/state.bin.zst": { path: saved.path, contentType: "application/octet-stream" },
  };
  await page.route("**/__v86-demo/**", (route) => {
    const f = files[new URL(route.request().url()).pathname];
    if (!f) return route.fulfill({ status: 404 });
    return route.fulfill({ body: f.body ?? readFileSync(f.path), contentType: f.contentType });
  });
  const t0 = performance.now();
  await page.goto(`${appUrl}/__v86-demo/`);
  await page.waitForFunction(() => window.shellAnswered !== undefined);
  await page.evaluate(() => window.shellAnswered);
  const ms = performance.now() - t0;
  await context.close();
  return ms;
}

await runBench(
  "start",
  async ({ browser, appUrl, note }) => {
    const published = JSON.parse(readFileSync(join(ROOT, "public", "guest", "state", "published.json"), "utf8"));
    const saved = await v86SavedState(note);
    const cold = await repeat(SLOW_RUNS, () => coldBoot(browser, appUrl));
    note(`cold boots: ${cold.map(Math.round).join(", ")} ms`);
    const firsts = await repeat(RUNS, () => firstVisit(browser, appUrl, note));
    const reloads = await repeat(SLOW_RUNS, async () => {
      const visit = await firstVisit(browser, appUrl, note, true);
      try {
        return await reload(visit.page, note);
      } finally {
        await visit.context.close();
      }
    });
    const demos = await repeat(RUNS, () => v86Demo(browser, appUrl, saved));
    note(`v86 saved-state starts: ${demos.map(Math.round).join(", ")} ms`);
    return {
      cold_boot_ms: Math.round(median(cold)),
      first_visit_to_shell_ms: Math.round(median(firsts.map((f) => f.ms))),
      first_visit_bytes_before_shell: Math.round(median(firsts.map((f) => f.bytes))),
      published_state_bytes: published.bytes,
      reload_to_shell_ms: Math.round(median(reloads.map((r) => r.ms))),
      reload_lost_ms: Math.round(median(reloads.map((r) => r.lost))),
      v86_saved_state_start_ms: Math.round(median(demos)),
    };
  },
  { conditionsInLine: false },
);
