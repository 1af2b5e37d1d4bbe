// `npm run bench:share`: share a checkpoint from one browser profile and open the link in a
// fresh one over a throttled network (CDP: 50 Mbit/s, 20 ms latency on the opening side).
// Runs its own checkpoint store on a free port (the preview's /store proxy points at it) and
// counts the bytes it serves, so store traffic is exact even for requests made in workers.
// Two links: a checkpoint never restored (its working set is the page walks recorded before the
// capture) and one its author restored once (the first touches of that restore). Each is opened
// SNAP86_BENCH_OPENS times (default 3), each time in a fresh profile; the line gives medians.
import { runBench } from "./lib/harness.mjs";
import { startCountingStore } from "./lib/counting-store.mjs";
import { envCount, median, repeat } from "./lib/stats.mjs";
import { throttledPage } from "./lib/throttle.mjs";

/** Opens per link (each in a fresh profile); the line reports medians. */
const OPENS = envCount("SNAP86_BENCH_OPENS", 3);

/** Opens `link` in a fresh, throttled profile; times the shell's first answer and counts bytes. */
async function openAndMeasure(browser, store, link, what) {
  const { context, page } = await throttledPage(browser);
  // Non-store traffic (page, guest files, base disk blocks) as Playwright sees it; store traffic is
  // counted by the store itself.
  let otherBytes = 0;
  let storeSeenBytes = 0;
  context.on("requestfinished", (request) => {
    void request.sizes().then((s) => {
      const bytes = s.responseBodySize + s.responseHeadersSize;
      if (new URL(request.url()).pathname.startsWith("/store/")) storeSeenBytes += bytes;
      else otherBytes += bytes;
      if (process.env.SNAP86_BENCH_VERBOSE === "1" && bytes > 50_000) console.error(`  ${bytes} B ${request.url().slice(0, 120)}`);
    }, () => undefined);
  });
  if (process.env.SNAP86_BENCH_VERBOSE === "1") page.on("console", (m) => m.text().startsWith("PREP") && console.error(m.text()));
  store.served.bytes = 0;
  const t0 = performance.now();
  await page.goto(link);
  await page.locator('#share-status[data-state="opened"], #share-status[data-state="failed"]').waitFor({ timeout: 300_000 });
  const state = await page.locator("#share-status").getAttribute("data-state");
  if (state !== "opened") throw new Error(`opening failed: ${await page.locator("#error").textContent()}`);
  const openedMs = performance.now() - t0;
  const bytesAtOpened = store.served.bytes;
  await page.evaluate(() => window.snap86.waitForShell({ timeoutMs: 120_000 }));
  const openToShellMs = performance.now() - t0;
  const storeBytes = store.served.bytes;
  const lazy = await page.evaluate(() => ({ ...document.getElementById("status-lazy")?.dataset }));
  const check = await page.evaluate(() => window.snap86.run("cat /root/bench.txt; echo $BENCH"));
  if (check !== "shared\n1") throw new Error(`the opened VM lost its state: ${JSON.stringify(check)}`);
  console.error(
    `open (${what}): running after ${Math.round(openedMs)} ms (${bytesAtOpened} B from the store by then), shell ${Math.round(openToShellMs)} ms; store served ${storeBytes} B ` +
      `(${((storeBytes * 8) / (openedMs / 1000) / 1e6).toFixed(1)} Mbit/s over the open, Playwright saw ${storeSeenBytes} B of it), other ${otherBytes} B; ` +
      `lazy at the shell: ${JSON.stringify(lazy)}`,
  );
  await context.close();
  return { openToShellMs: Math.round(openToShellMs), storeBytes, otherBytes };
}

await runBench(
  "share",
  async ({ browser, bootFreshPage, note, prepared: store }) => {
    const a = await bootFreshPage();
    await a.run("echo shared > /root/bench.txt; sync; export BENCH=1");
    await a.page.evaluate(() => window.snap86.flushDisk());
    const { id } = await a.page.evaluate(() => window.snap86.checkpoint());
    const shared = await a.page.evaluate((cid) => window.snap86.share(cid), id);
    const reshared = await a.page.evaluate((cid) => window.snap86.share(cid), id);
    note(`share: ${JSON.stringify(shared)}\nre-share: ${JSON.stringify(reshared)}`);

    // Second link: a checkpoint its author restored once before sharing, so the working set in
    // the link is the faults of a real restore rather than the walks recorded before the capture.
    await a.run("echo shared > /root/bench.txt; sync; export BENCH=1");
    const second = await a.page.evaluate(() => window.snap86.checkpoint());
    await a.page.evaluate((cid) => window.snap86.restore(cid, { mode: "lazy" }).then(() => window.snap86.run("true")), second.id);
    await a.page.waitForTimeout(6000); // the restore's faults are recorded for 5 s (working-set-store.ts)
    const sharedKnown = await a.page.evaluate((cid) => window.snap86.share(cid), second.id);
    await a.context.close();

    // The two links alternate, so a change in the machine's load hits both alike.
    const opens = await repeat(OPENS, async (i) => ({
      first: await openAndMeasure(browser, store, shared.link, `never restored, open ${i + 1}/${OPENS}`),
      known: await openAndMeasure(browser, store, sharedKnown.link, `restored once by its author, open ${i + 1}/${OPENS}`),
    }));
    const first = opens.map((o) => o.first);
    const known = opens.map((o) => o.known);
    const checkpointBytes = shared.uploadedBytes + shared.skippedBytes - shared.packBytes;
    const bytesBeforeShell = median(first.map((o) => o.storeBytes));
    return {
      open_to_shell_ms: median(first.map((o) => o.openToShellMs)),
      bytes_fetched_before_shell: bytesBeforeShell,
      checkpoint_bytes: checkpointBytes,
      bytes_fetched_before_shell_pct: Math.round((bytesBeforeShell / checkpointBytes) * 1000) / 10,
      pack_bytes: shared.packBytes,
      upload_ms: shared.uploadMs,
      reshare_upload_bytes: reshared.uploadedBytes,
      other_bytes_before_shell: median(first.map((o) => o.otherBytes)),
      known_working_set_open_to_shell_ms: median(known.map((o) => o.openToShellMs)),
      known_working_set_bytes_fetched_before_shell: median(known.map((o) => o.storeBytes)),
      opens: OPENS,
    };
  },
  {
    // The preview's /store proxy reads the store's port when it starts (vite.config.ts).
    prepare: async ({ onTeardown }) => {
      const store = await startCountingStore();
      onTeardown(() => store.stop());
      process.env.SNAP86_STORE_PORT = String(store.port);
      return store;
    },
  },
);
