// `npm run bench:guest`: the "debian" guest and what people do in it. Cold boot of the debian
// guest to its shell (fresh browser context: nothing cached) and the bytes of its disk image
// fetched by then; python3 startup (`python3 -c pass`, warm: after a first run read it from the
// lazily fetched disk); 10 MiB into the guest (upload() until the guest can read it) and out of
// it (download() of a file in /root, copied through /mnt/host by the guest); curl of 1 MiB from a
// local HTTP server through v86's fetch backend. Medians of SNAP86_BENCH_RUNS (default 5; cold
// boots SNAP86_BENCH_COLD_RUNS, default 3), timed in the page. The last stdout line is exactly
// the fields; the conditions (CPU, load, commit) go to stderr just before it.
import { createServer } from "node:http";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../scripts/lib/setup.mjs";
import { runBench } from "./lib/harness.mjs";
import { envCount, median, repeat, round1 } from "./lib/stats.mjs";

const RUNS = envCount("SNAP86_BENCH_RUNS", 5);
const COLD_RUNS = envCount("SNAP86_BENCH_COLD_RUNS", 3);
const TEN_MIB = 10 * 1024 * 1024;
const ONE_MIB = Buffer.alloc(1024 * 1024, "x");

/** A local HTTP server the guest reaches through the browser (CORS: the fetch backend is a page). */
async function startHttpServer({ onTeardown }) {
  const server = createServer((req, res) => {
    res.setHeader("access-control-allow-origin", "*");
    res.end(req.url === "/1mib" ? ONE_MIB : "ok\n");
  });
  server.listen(Number(process.env.SNAP86_BENCH_HTTP_PORT) || 0);
  await once(server, "listening");
  onTeardown(() => new Promise((r) => server.close(r)));
  return server.address().port;
}

/** One command timed in the page, from the call to its output (the serial round trip included). */
const timedRun = (page, command) =>
  page.evaluate(async (c) => {
    const t0 = performance.now();
    const r = await window.snap86.runWithStatus(c, { timeoutMs: 120_000 });
    if (r.exitCode !== 0) throw new Error(`${c} failed: ${r.output}`);
    return performance.now() - t0;
  }, command);

await runBench(
  "guest",
  async ({ bootFreshPage, note, prepared: httpPort }) => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "public", "guest", "debian", "guest.json"), "utf8"));
    let vm;
    const boots = await repeat(COLD_RUNS, async (i) => {
      vm = await bootFreshPage({ guest: "debian" });
      const info = await vm.page.evaluate(() => window.snap86.diskInfo());
      note(`debian cold boot ${i + 1}: ${Math.round(vm.bootMs)} ms, ${info.baseFetchedBytes} disk bytes fetched`);
      if (i < COLD_RUNS - 1) await vm.context.close();
      return { ms: vm.bootMs, fetched: info.baseFetchedBytes };
    });
    const { page } = vm;
    await page.evaluate(() => window.snap86.setAutosaveInterval(0));

    await timedRun(page, "python3 -c pass"); // first run: its files come over the network
    const python = await repeat(RUNS, () => timedRun(page, "python3 -c pass"));

    const data = new Uint8Array(TEN_MIB).map((_, i) => (i * 2654435761) >>> 24);
    const uploads = await repeat(RUNS, async (i) => {
      const ms = await page.evaluate(
        async ([n, name]) => {
          const bytes = new Uint8Array(n).map((_, j) => (j * 2654435761) >>> 24);
          const t0 = performance.now();
          await window.snap86.upload(name, bytes);
          return performance.now() - t0;
        },
        [TEN_MIB, `up-${i}.bin`],
      );
      const size = await vm.run(`stat -c %s /mnt/host/up-${i}.bin; rm /mnt/host/up-${i}.bin`);
      if (Number(size) !== data.byteLength) throw new Error(`the guest sees ${size} bytes`);
      return ms;
    });

    await vm.run("head -c 10485760 /dev/urandom > /root/ten.bin; sync", 120_000);
    const downloads = await repeat(RUNS, () =>
      page.evaluate(async (n) => {
        const t0 = performance.now();
        const out = await window.snap86.download("/root/ten.bin");
        if (out.byteLength !== n) throw new Error(`downloaded ${out.byteLength} bytes`);
        return performance.now() - t0;
      }, TEN_MIB),
    );

    await vm.run("until grep -q nameserver /run/resolv.conf 2>/dev/null; do sleep 0.2; done", 60_000);
    const curl = `curl -sf -o /dev/null http://localhost:${httpPort}/1mib`;
    await timedRun(page, curl);
    const gets = await repeat(RUNS, () => timedRun(page, curl));

    note(`python3: ${python.map(Math.round).join(", ")} ms; upload: ${uploads.map(Math.round).join(", ")} ms; download: ${downloads.map(Math.round).join(", ")} ms; http: ${gets.map(Math.round).join(", ")} ms`);
    return {
      debian_cold_boot_ms: Math.round(median(boots.map((b) => b.ms))),
      debian_image_bytes: manifest.files.disk.size,
      debian_boot_bytes_fetched: Math.round(median(boots.map((b) => b.fetched))),
      python_startup_ms: round1(median(python)),
      upload_10mib_ms: round1(median(uploads)),
      download_10mib_ms: round1(median(downloads)),
      http_get_ms: round1(median(gets)),
    };
  },
  { prepare: startHttpServer, conditionsInLine: false },
);
