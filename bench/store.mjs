// `npm run bench:store`: the share flow on the S3 backend (Ceph RGW 16.2, scripts/rgw/), with the
// store out of the data path (presigned GETs and PUTs), then the store under load: its RSS while
// 200 clients hold uploads open, and the p99 of missing queries. Bytes "fetched before the shell"
// are what the bucket sent (a counting proxy in front of RGW) until the opener's shell answered,
// as a share of the checkpoint's sealed objects (without the pack), like bench:share.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { runBench } from "./lib/harness.mjs";
import { startS3Stack } from "./lib/s3-bench-stack.mjs";

const MiB = 1024 * 1024;
const CONNS = 200;
const QUERIES = 50;
const NAMES_PER_QUERY = 500;

function rssMib(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  return Math.round(kb / 102.4) / 10;
}

/** 200 sockets each in the middle of a PUT (headers and a first piece sent): resolves once all are written. */
async function holdUploads(port) {
  const sockets = [];
  await Promise.all(
    Array.from({ length: CONNS }, (_, i) => new Promise((resolve, reject) => {
      const name = createHash("sha256").update(`held ${i}`).digest("hex");
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(`PUT /store/manifests/${name} HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n${"x".repeat(4096)}`, () => resolve());
      });
      socket.on("error", reject);
      sockets.push(socket);
    })),
  );
  return () => sockets.forEach((s) => s.destroy());
}

async function missingP99(port) {
  const times = [];
  for (let q = 0; q < QUERIES; q++) {
    const names = Array.from({ length: NAMES_PER_QUERY }, (_, i) => createHash("sha256").update(`q${q} ${i}`).digest("hex"));
    const t0 = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/store/objects/missing`, { method: "POST", body: JSON.stringify(names), headers: { "Content-Type": "application/json" } });
    if (response.status !== 200) throw new Error(`missing query: HTTP ${response.status}`);
    await response.json();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)]);
}

await runBench(
  "store",
  async ({ browser, bootFreshPage, note, prepared: stack }) => {
    const a = await bootFreshPage();
    await a.run("echo shared > /root/bench.txt; sync; export BENCH=1");
    await a.page.evaluate(() => window.snap86.flushDisk());
    const { id } = await a.page.evaluate(() => window.snap86.checkpoint());
    const shared = await a.page.evaluate((cid) => window.snap86.share(cid), id);
    note(`share: ${JSON.stringify(shared)}`);
    await a.context.close();

    const context = await browser.newContext();
    const page = await context.newPage();
    stack.served.bytes = 0;
    const t0 = performance.now();
    await page.goto(shared.link);
    await page.locator('#share-status[data-state="opened"], #share-status[data-state="failed"]').waitFor({ timeout: 300_000 });
    if ((await page.locator("#share-status").getAttribute("data-state")) !== "opened") throw new Error(`opening failed: ${await page.locator("#error").textContent()}`);
    await page.evaluate(() => window.snap86.waitForShell({ timeoutMs: 120_000 }));
    const openToShellMs = Math.round(performance.now() - t0);
    const fetched = stack.served.bytes;
    const check = await page.evaluate(() => window.snap86.run("cat /root/bench.txt; echo $BENCH"));
    if (check !== "shared\n1") throw new Error(`the opened VM lost its state: ${JSON.stringify(check)}`);
    await context.close();
    const checkpointBytes = shared.uploadedBytes + shared.skippedBytes - shared.packBytes;

    const idleRss = rssMib(stack.pid);
    const release = await holdUploads(stack.port);
    const heldRss = rssMib(stack.pid);
    release();
    const p99 = await missingP99(stack.port);
    note(`store RSS idle ${idleRss} MiB, with ${CONNS} uploads held open ${heldRss} MiB; missing query of ${NAMES_PER_QUERY} names x ${QUERIES}: p99 ${p99} ms`);
    return {
      backend: "s3",
      server: stack.server,
      upload_mibps: Math.round((shared.uploadedBytes / MiB / (shared.uploadMs / 1000)) * 10) / 10,
      open_to_shell_ms: openToShellMs,
      bytes_fetched_before_shell_pct: Math.round((fetched / checkpointBytes) * 1000) / 10,
      store_rss_mib_200_conns: heldRss,
      missing_query_p99_ms: p99,
    };
  },
  {
    prepare: async ({ onTeardown }) => {
      const stack = await startS3Stack(onTeardown);
      process.env.SNAP86_STORE_PORT = String(stack.port);
      return stack;
    },
  },
);
