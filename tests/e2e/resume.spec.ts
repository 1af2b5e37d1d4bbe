// A reload resumes the newest autosave, and the page shows the screen as it was left before the
// resumed machine even runs (src/page/start/last-screen.ts).
import { test, expect, vmOf } from "../fixtures/snap86";

test("a reload resumes the session and shows the last screen before the machine runs", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/");
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await page.evaluate(() => window.snap86.waitForShell());
  // Kept while the page runs (encoded in the background once the screen settles), not only as it
  // goes away: encoding it then held every reload up ~60 ms.
  await expect.poll(() => page.evaluate(() => localStorage.getItem("snap86.lastScreen")?.startsWith('{"url":"data:image/') ?? false)).toBe(true);
  const vm = vmOf(page);
  await vm.run("export KEPT=across-reload");
  await page.evaluate(() => window.snap86.checkpoint({ autosave: true }));
  await page.reload();
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await expect(page.locator("html")).toHaveAttribute("data-last-screen", "shown");
  await page.evaluate(() => window.snap86.waitForShell());
  await expect(page.locator("html")).toHaveAttribute("data-start", "resumed");
  const { shownAt, startedAt } = await page.evaluate(() => ({
    shownAt: Number(document.documentElement.dataset.lastScreenAt),
    startedAt: Number(document.documentElement.dataset.startedAt),
  }));
  expect(shownAt).toBeLessThan(startedAt);
  expect(await vm.run("echo $KEPT")).toBe("across-reload");
  await context.close();
});
