// `npm run bench:images`: each test image booted by URL as a user would (fresh browser context,
// image served from another origin with CORS and Range), then the steps issue 13 asks of every
// machine: checkpoint (pause), lazy restore (first instruction), share open (the checkpoint
// shared with its image uploaded, the link opened in a fresh profile over 50 Mbit/s and 20 ms as
// bench:share does; also by the image's URL), reset (to the
// checkpoint made the machine's reset point); medians of REPS samples each. A step the
// product cannot do yet for a user's image is reported as null with its error code, and makes
// `all_ok` false: the line says what works, not what should.
// Images: a real-mode floppy, a hard disk, a floppy that enables PAE paging, an ISO whose kernel
// enables paging (the installer's).
import { runBench } from "./lib/harness.mjs";
import { envCount, median } from "./lib/stats.mjs";
import { startImageHost } from "./lib/image-host.mjs";
import { startCountingStore } from "./lib/counting-store.mjs";
import { throttledPage } from "./lib/throttle.mjs";

/** name → the serial text that says it booted (the program's own output). */
const CASES = [
  { name: "counter-floppy.img", booted: "count 1" },
  { name: "counter-disk.img", booted: "count 1" },
  // Protected mode with PAE paging (scripts/test-images/pae.asm): 64-bit entries and PDPTEs.
  { name: "pae-floppy.img", booted: "count 1 sum" },
  { name: "mini.iso", booted: "Linux version", memoryMiB: 256 },
];
const BOOT_TIMEOUT_MS = 300_000;
/** SNAP86_BENCH_IMAGES=name,name runs only those (all_ok then covers only them). */
const ONLY = process.env.SNAP86_BENCH_IMAGES?.split(",");
/** SNAP86_BENCH_AUTOSAVE=0: no periodic autosaves while measuring (they compete for the checkpoint-I/O worker). */
const AUTOSAVE_OFF = process.env.SNAP86_BENCH_AUTOSAVE === "0";
/** Samples per figure (medians reported): the machines are shared. */
const REPS = 5;
/** Opens of each share link (each in a fresh, throttled profile): a user's image costs a boot-sized open each. */
const OPENS = envCount("SNAP86_BENCH_OPENS", 1);
const SHARE_OPEN_TIMEOUT_MS = 600_000;

/**
 * share_open_ms: navigation to the link in a fresh profile over the throttled network until the
 * opened machine runs (the page says "opened": the image's uploaded blocks are here, the device
 * state restored, RAM loading on first touch); then it must print what it booted into again.
 */
async function openShared(browser, link, store) {
  const { context, page } = await throttledPage(browser);
  try {
    store.served.bytes = 0;
    const t0 = performance.now();
    await page.goto(link);
    await page.locator('#share-status[data-state="opened"], #share-status[data-state="failed"]').waitFor({ timeout: SHARE_OPEN_TIMEOUT_MS });
    const ms = Math.round(performance.now() - t0);
    if ((await page.locator("#share-status").getAttribute("data-state")) !== "opened") return { error: (await page.locator("#error").textContent())?.slice(0, 200) ?? "failed" };
    const state = await page.locator("#status-state").textContent();
    if (state !== "running") return { error: `opened but ${state}` };
    return { ms, storeBytes: store.served.bytes };
  } finally {
    await context.close();
  }
}

/** Runs a step in the page: `{ ms }` or `{ error: code }`. */
async function step(page, fn, arg) {
  return page.evaluate(
    async ([source, a]) => {
      const t0 = performance.now();
      try {
        const result = await new Function("a", `return (${source})(a)`)(a);
        return { ms: Math.round(performance.now() - t0), result };
      } catch (e) {
        return { error: e?.code ?? e?.message ?? String(e) };
      }
    },
    [fn.toString(), arg],
  );
}

await runBench(
  "images",
  async ({ browser, appUrl, note, prepared }) => {
    const results = [];
    for (const c of CASES.filter((x) => !ONLY || ONLY.includes(x.name))) {
      const image = prepared.images.find((i) => i.name === c.name);
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${appUrl}/?autoboot=0`);
      await page.waitForFunction(() => typeof window.snap86 === "object");
      if (AUTOSAVE_OFF) await page.evaluate(() => window.snap86.setAutosaveInterval(0));
      const errors = {};
      prepared.served();
      const boot = await step(
        page,
        async ({ url, booted, memoryMiB, timeoutMs }) => {
          const seen = window.snap86.waitForSerial(booted, { timeoutMs });
          await window.snap86.boot({ image: { url }, ...(memoryMiB ? { memoryMiB } : {}) });
          await seen;
        },
        { url: `${prepared.origin}/${c.name}`, booted: c.booted, memoryMiB: c.memoryMiB, timeoutMs: BOOT_TIMEOUT_MS },
      );
      if (boot.error) errors.boot = boot.error;
      // Read by Range: what the boot fetched of the image (the rest stays on the server).
      const fetchedBytes = prepared.served();
      // pause_ms: how long the guest stood still for each checkpoint (the rest is written while it runs).
      const checkpoint = boot.error
        ? { error: "not booted" }
        : await step(
            page,
            async (reps) => {
              const taken = [];
              for (let i = 0; i < reps; i++) taken.push(await window.snap86.checkpoint({ label: `bench ${i}` }));
              return { id: taken[0].id, pauses: taken.map((t) => t.pauseMs) };
            },
            REPS,
          );
      if (checkpoint.error) errors.checkpoint = checkpoint.error;
      // lazy_first_instruction_ms: restore() until the guest runs again, RAM still loading on first touch.
      const lazy = checkpoint.error
        ? { error: "no checkpoint" }
        : await step(
            page,
            async ({ id, reps }) => {
              const times = [];
              for (let i = 0; i < reps; i++) {
                const r = await window.snap86.restore(id, { mode: "lazy" });
                if (r.mode !== "lazy") throw Object.assign(new Error(`restored ${r.mode}: ${r.lazyUnavailable}`), { code: "not-lazy" });
                times.push(r.restoreMs);
              }
              return times;
            },
            { id: checkpoint.result?.id, reps: REPS },
          );
      if (lazy.error) errors.lazy_restore = lazy.error;
      // The first checkpoint shared twice: its image uploaded (the default), and by its URL.
      const opens = { upload: [], url: [] };
      if (checkpoint.error) errors.share_open = "no checkpoint";
      for (const imageBy of checkpoint.error ? [] : ["upload", "url"]) {
        const shared = await step(page, async ({ id, imageBy }) => window.snap86.share(id, { imageBy }), { id: checkpoint.result.id, imageBy });
        if (shared.error) {
          errors[`share_${imageBy}`] = shared.error;
          continue;
        }
        note(`${c.name} shared (${imageBy}): ${JSON.stringify({ ...shared.result, link: undefined })}`);
        for (let i = 0; i < OPENS; i++) {
          const opened = await openShared(browser, shared.result.link, prepared.store);
          if (opened.error) errors[`share_open_${imageBy}`] = opened.error;
          else opens[imageBy].push(opened);
        }
      }
      // reset_ms: the checkpoint made this machine's reset point, then Reset (in place: no standby).
      const reset = checkpoint.error
        ? { error: "no checkpoint" }
        : await step(
            page,
            async ({ id, reps }) => {
              await window.snap86.setStandby(false);
              await window.snap86.setResetPoint(id);
              const times = [];
              const outcomes = [];
              for (let i = 0; i < reps; i++) outcomes.push(await window.snap86.reset());
              return outcomes;
            },
            { id: checkpoint.result?.id, reps: REPS },
          );
      if (reset.error) errors.reset = reset.error;
      else note(`${c.name} resets: ${JSON.stringify(reset.result)}`);
      const med = (values) => Math.round(median(values) * 10) / 10;
      const ok = Object.keys(errors).length === 0;
      const row = {
        name: c.name,
        kind: image.kind,
        boot_ms: boot.ms ?? null,
        image_bytes: image.size,
        boot_fetched_bytes: fetchedBytes,
        pause_ms: checkpoint.error ? null : med(checkpoint.result.pauses),
        lazy_first_instruction_ms: lazy.error ? null : med(lazy.result),
        share_open_ms: opens.upload.length > 0 ? med(opens.upload.map((o) => o.ms)) : null,
        share_open_store_bytes: opens.upload.length > 0 ? med(opens.upload.map((o) => o.storeBytes)) : null,
        share_open_by_url_ms: opens.url.length > 0 ? med(opens.url.map((o) => o.ms)) : null,
        reset_ms: reset.error ? null : med(reset.result.map((o) => o.resetMs)),
        ok,
        ...(ok ? {} : { errors }),
      };
      note(`${c.name}: ${JSON.stringify(row)}`);
      results.push(row);
      await page.evaluate(() => window.snap86.powerOff()).catch(() => undefined);
      await context.close();
    }
    return { images: results.length, all_ok: results.every((r) => r.ok), results };
  },
  {
    // A store of our own, counting what it serves; the preview's /store proxy reads its port at start.
    prepare: async (ctx) => {
      const store = await startCountingStore();
      ctx.onTeardown(() => store.stop());
      process.env.SNAP86_STORE_PORT = String(store.port);
      return { ...(await startImageHost(ctx)), store };
    },
  },
);
