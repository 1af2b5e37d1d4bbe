// `npm run bench:ui`: the page as a person meets it, in one browser run (not a timing bench):
// axe-core violations over the main states (off, error, booting, running, checkpoint list),
// horizontal overflow on a 390 px phone, how many controls there are and how many Tab (with the
// documented release key where the screen or terminal keeps Tab) reaches, automation marker
// lines in the user's terminal after a boot, a checkpoint, a restore and a reset, and the first
// paint of a fresh page load.
import { runBench } from "./lib/harness.mjs";
import { axeAudit, horizontalOverflow, markerLines, tabWalk, visibleControls, VIEWPORTS } from "../scripts/lib/ui-audit.mjs";

/** Marker lines in the terminal now: its transcript since the last clear and what xterm.js shows. */
async function terminalMarkers(page) {
  const transcript = await page.evaluate(() => window.snap86.serialText());
  const shown = await page.evaluate(() => [...document.querySelectorAll("#terminal .xterm-rows > div")].map((row) => row.textContent).join("\n"));
  return Math.max(markerLines(transcript), markerLines(shown));
}

await runBench("ui", async ({ browser, appUrl, note }) => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  await page.goto(`${appUrl}/?autoboot=0`);
  await page.waitForFunction(() => typeof window.snap86 === "object");
  const firstPaintMs = await page.evaluate(() => {
    const paints = performance.getEntriesByType("paint");
    return (paints.find((p) => p.name === "first-paint") ?? paints[0])?.startTime ?? -1;
  });

  let serious = 0;
  let critical = 0;
  const audit = async (state) => {
    const a = await axeAudit(page);
    serious += a.serious;
    critical += a.critical;
    note(`axe ${state}: ${a.serious} serious, ${a.critical} critical${a.violations.length ? ` (${a.violations.map((v) => `${v.id}:${v.impact}`).join(", ")})` : ""}`);
  };
  await audit("off");
  await page.evaluate(() => window.snap86.boot({ image: { kind: "cdrom", url: "/no-such-image.iso" } }).catch(() => undefined));
  await page.locator("#error").waitFor();
  await audit("error");
  await page.evaluate(() => void window.snap86.boot());
  await page.locator("#boot-progress").waitFor();
  await audit("booting");
  await page.evaluate(() => window.snap86.waitForShell({ timeoutMs: 150_000 }));
  await page.evaluate(() => window.snap86.ensureGolden());
  await audit("running");
  let markers = await terminalMarkers(page);
  const cp = await page.evaluate(() => window.snap86.checkpoint({ label: "bench ui" }));
  await page.locator("#checkpoint-list li.checkpoint").first().waitFor();
  await audit("checkpoint list");
  markers += await terminalMarkers(page);
  await page.evaluate((id) => window.snap86.restore(id).then(() => window.snap86.run("true")), cp.id);
  markers += await terminalMarkers(page);
  await page.evaluate(() => window.snap86.reset().then(() => window.snap86.run("true")));
  markers += await terminalMarkers(page);
  note(`marker lines in the terminal after boot, checkpoint, restore, reset: ${markers}`);

  // The checkpoint list again (the reset wiped the session's checkpoints but not this one).
  await page.locator("#disk-wipe").waitFor();
  const controls = await visibleControls(page);
  const reached = await tabWalk(page);
  const missed = controls.filter((c) => !reached.includes(c));
  note(`controls: ${controls.length}, reached by Tab: ${controls.length - missed.length}${missed.length ? ` (missed ${missed.join(", ")})` : ""}`);

  const phone = VIEWPORTS.find((v) => v.name === "phone");
  await page.setViewportSize({ width: phone.width, height: phone.height });
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const overflow = await horizontalOverflow(page);
  await context.close();
  return {
    axe_serious: serious,
    axe_critical: critical,
    overflow_px_390: overflow,
    controls: controls.length,
    controls_reachable_by_tab: controls.length - missed.length,
    markers_in_terminal: markers,
    first_paint_ms: Math.round(firstPaintMs),
  };
});
