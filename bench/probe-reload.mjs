import { runBench } from "./lib/harness.mjs";
await runBench("probe", async ({ browser, appUrl, note }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${appUrl}/`);
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await page.evaluate(() => window.snap86.waitForShell({ timeoutMs: 120000 }));
  await page.evaluate(() => window.snap86.ensureGolden());
  for (let k = 0; k < 3; k++) {
    await page.evaluate(() => window.snap86.checkpoint({ autosave: true }));
    await page.waitForTimeout(1500);
    const t0 = performance.now();
    const t = () => Math.round(performance.now() - t0);
    const poll = setInterval(() => { void page.evaluate(async () => { const f = window.snap86?.facets; if (!f) return "no api"; const st = await f.machine.stats().catch((e) => String(e)); const lz = await f.checkpoints.lazyStatus().catch((e) => String(e)); return `${document.documentElement.dataset.start} | ${st.state} ${st.mips} | ${lz.active} ${lz.residentPages} ${lz.faults}`; }).then((s) => note(`${t()} poll ${s}`), () => {}); }, 100);
    const traces = [];
    const onc = (m) => { if (m.text().startsWith("TRACE")) traces.push(m.text()); };
    page.on("console", onc);
    await page.reload();
    note(`${t()} reload done`);
    await page.waitForFunction(() => typeof window.snap86 === "object");
    note(`${t()} snap86`);
    await page.waitForFunction(() => document.documentElement.dataset.start === "resumed");
    note(`${t()} resumed`);
    note(`${t()} run sent`);
    const r = await page.evaluate(() => window.snap86.run("echo x", { timeoutMs: 20000 }).then((x) => x, (e) => "ERR " + e.message));
    note(`${t()} run: ${r}`);
    await page.evaluate(() => window.snap86.waitForShell({ timeoutMs: 120000 }));
    note(`${t()} SHELL`);
    clearInterval(poll);
    const timing = await page.evaluate(() => JSON.stringify(performance.getEntriesByType("navigation").map((e) => ({ dcl: Math.round(e.domContentLoadedEventEnd), load: Math.round(e.loadEventEnd), resp: Math.round(e.responseEnd) }))));
    note(`nav ${timing}`);
    const origin = await page.evaluate(() => performance.timeOrigin);
    for (const tr of traces) { const [, label, at] = tr.split(" "); note(`  trace ${Math.round(Number(at) - origin)} ${label}`); }
    page.off("console", onc);
  }
  await context.close();
  return { ok: 1 };
});
