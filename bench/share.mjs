// `npm run bench:share`: share a checkpoint from one browser profile and open the link in a
// fresh one over a throttled network (CDP: 50 Mbit/s, 20 ms latency on the opening side).
// Runs its own checkpoint store on a free port (the preview's /store proxy points at it) and
// counts the bytes it serves, so store traffic is exact even for requests made in workers.
// Two links: a checkpoint never restored (its working set is the page walks recorded before the
// capture) and one its author restored once (the first touches of that restore). Each is opened
// SNAP86_BENCH_OPENS times (default 3), each time in a fresh profile; the line gives medians.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { launchOptions } from "../scripts/lib/chromium.mjs";
import { ROOT } from "../scripts/lib/setup.mjs";
import { startApp } from "./lib/app-server.mjs";
import { bootFreshPage } from "./lib/vm.mjs";

const MBIT = 1_000_000 / 8;
/** Opens per link (each in a fresh profile); the line reports medians. */
const OPENS = Number(process.env.SNAP86_BENCH_OPENS ?? 3);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const THROTTLE = { offline: false, latency: 20, downloadThroughput: 50 * MBIT, uploadThroughput: 50 * MBIT };

async function startStore() {
  const built = spawnSync("npx", ["tsc", "-p", "server/tsconfig.build.json"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  if (built.status !== 0) throw new Error("store build failed");
  const { createStoreServer } = await import(pathToFileURL(join(ROOT, ".cache/store-build/server/store-server.js")).href);
  const dir = await mkdtemp(join(tmpdir(), "snap86-bench-share-"));
  const server = createStoreServer({ dir, log: process.env.SNAP86_STORE_LOG === "1" ? (line) => console.error(line) : undefined });
  const served = { bytes: 0, requests: 0 };
  // Counts body bytes of every GET answered (objects and manifests), as sent on the wire.
  server.prependListener("request", (req, res) => {
    if (req.method !== "GET") return;
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    const count = (chunk) => {
      if (chunk && typeof chunk !== "function") served.bytes += Buffer.byteLength(chunk);
    };
    res.write = (chunk, ...rest) => (count(chunk), write(chunk, ...rest));
    res.end = (chunk, ...rest) => (count(chunk), end(chunk, ...rest));
    served.requests++;
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: server.address().port,
    served,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}


/** Opens `link` in a fresh, throttled profile; times the shell's first answer and counts bytes. */
async function openAndMeasure(link, what) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  // SNAP86_BENCH_NO_THROTTLE=1 only to check that the throttle reaches the workers' fetches.
  if (process.env.SNAP86_BENCH_NO_THROTTLE !== "1") await cdp.send("Network.emulateNetworkConditions", THROTTLE);
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

const store = await startStore();
process.env.SNAP86_STORE_PORT = String(store.port); // read by vite.config.ts in the preview
const app = await startApp();
const browser = await chromium.launch(launchOptions());
let result;
try {
  const a = await bootFreshPage(browser, app.url);
  await a.run("echo shared > /root/bench.txt; sync; export BENCH=1");
  await a.page.evaluate(() => window.snap86.flushDisk());
  const { id } = await a.page.evaluate(() => window.snap86.checkpoint());
  const shared = await a.page.evaluate((cid) => window.snap86.share(cid), id);
  const reshared = await a.page.evaluate((cid) => window.snap86.share(cid), id);
  console.error(`share: ${JSON.stringify(shared)}\nre-share: ${JSON.stringify(reshared)}`);

  // Second link: a checkpoint its author restored once before sharing, so the working set in
  // the link is the faults of a real restore rather than the walks recorded before the capture.
  await a.run("echo shared > /root/bench.txt; sync; export BENCH=1");
  const second = await a.page.evaluate(() => window.snap86.checkpoint());
  await a.page.evaluate((cid) => window.snap86.restore(cid, { mode: "lazy" }).then(() => window.snap86.run("true")), second.id);
  await a.page.waitForTimeout(6000); // the restore's faults are recorded for 5 s (working-set-store.ts)
  const sharedKnown = await a.page.evaluate((cid) => window.snap86.share(cid), second.id);
  await a.context.close();

  const first = [];
  const known = [];
  for (let i = 0; i < OPENS; i++) {
    first.push(await openAndMeasure(shared.link, `never restored, open ${i + 1}/${OPENS}`));
    known.push(await openAndMeasure(sharedKnown.link, `restored once by its author, open ${i + 1}/${OPENS}`));
  }
  const checkpointBytes = shared.uploadedBytes + shared.skippedBytes - shared.packBytes;
  const bytesBeforeShell = median(first.map((o) => o.storeBytes));
  result = {
    bench: "share",
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
} finally {
  await browser.close();
  app.stop();
  await store.stop();
}
console.log(JSON.stringify(result));
