// Pages with a booted guest, for benchmarks. Each gets a fresh browser context (empty storage).

/** Opens the app in a fresh context, boots with `config`, waits for the shell. */
export async function bootFreshPage(browser, appUrl, config = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const t0 = performance.now();
  await page.goto(`${appUrl}/?autoboot=0`);
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await page.evaluate((c) => window.snap86.boot(c).then(() => window.snap86.waitForShell({ timeoutMs: 150_000 })), config);
  const bootMs = performance.now() - t0;
  const run = (command, timeoutMs = 120_000) => page.evaluate(([c, t]) => window.snap86.run(c, { timeoutMs: t }), [command, timeoutMs]);
  return { context, page, run, bootMs };
}
