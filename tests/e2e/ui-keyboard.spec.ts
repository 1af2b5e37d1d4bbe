/**
 * The page for a person: axe-core finds no serious or critical problem in the main states, every
 * control is reached by Tab (and the release key where the screen or terminal keeps Tab), and
 * the page says how to leave the screen and the terminal while they hold the keys.
 */
import type { Page } from "@playwright/test";
import { expect, openApp, test } from "../fixtures/snap86";
import { axeAudit, RELEASE_KEY, tabWalk, visibleControls } from "../../scripts/lib/ui-audit.mjs";

async function expectNoSeriousAxe(page: Page, state: string): Promise<void> {
  const audit = await axeAudit(page);
  const bad = audit.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad, `axe in state "${state}": ${JSON.stringify(bad, null, 1)}`).toEqual([]);
}

test("axe finds nothing serious: off, error, booting, running, checkpoint list", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  await openApp(page);
  await expectNoSeriousAxe(page, "off");

  const failed = await page.evaluate(() => window.snap86.boot({ image: { kind: "cdrom", url: "/no-such-image.iso" } }).then(() => "booted", () => "failed"));
  expect(failed).toBe("failed");
  await expect(page.locator("#error")).toBeVisible();
  await expectNoSeriousAxe(page, "error");

  await page.evaluate(() => void window.snap86.boot());
  await expect(page.locator("#boot-progress")).toBeVisible();
  await expectNoSeriousAxe(page, "booting");

  await page.evaluate(() => window.snap86.waitForShell({ timeoutMs: 150_000 }));
  await expect(page.locator("#boot-progress")).toBeHidden();
  await expectNoSeriousAxe(page, "running");

  await page.evaluate(() => window.snap86.checkpoint({ label: "for axe" }));
  await expect(page.locator("#checkpoint-list li.checkpoint").first()).toBeVisible();
  await expectNoSeriousAxe(page, "checkpoint list");
  await context.close();
});

test("every control is reached by keyboard, in page order, and the release key is shown", async ({ vm }) => {
  const page = vm.page;
  // Session saves off for the walk: each replaces the autosave row, so the rows listed before the
  // walk would be gone by its end (the walk is what is tested here, not the list's refresh).
  await page.evaluate(() => window.snap86.setAutosaveInterval(0));
  await page.evaluate(() => window.snap86.checkpoint({ label: "keyboard" }));
  await expect(page.locator("#checkpoint-list li.checkpoint").first()).toBeVisible();
  await expect(page.locator("#disk-wipe")).toBeEnabled();

  const controls = await visibleControls(page);
  for (const wanted of ["#power", "#image-url", "#image-file", "#image-boot", "#screen", "#terminal", "#disk-wipe", "#checkpoint-button", "#checkpoint-import-button", "#share-button"]) {
    expect(controls).toContain(wanted);
  }
  const reached = await tabWalk(page);
  expect(controls.filter((c) => !reached.includes(c)), `reached in order: ${reached.join(", ")}`).toEqual([]);
  // Page order: the machine's toolbar first, the screen before the terminal, checkpoints last.
  expect(reached.indexOf("#power")).toBeLessThan(reached.indexOf("#screen"));
  expect(reached.indexOf("#screen")).toBeLessThan(reached.indexOf("#terminal"));
  expect(reached.indexOf("#terminal")).toBeLessThan(reached.indexOf("#checkpoint-button"));
  expect(reached.some((c) => c.startsWith("checkpoint ") && c.endsWith(" restore"))).toBe(true);

  // The screen keeps Tab for the guest and says how to leave; the release key leaves.
  await page.locator("#screen").focus();
  await expect(page.locator("#screen-hint")).toBeVisible();
  await expect(page.locator("#screen-hint")).toContainText("Ctrl+Alt+Esc");
  await page.keyboard.press("Tab");
  await expect(page.locator("#screen")).toBeFocused();
  await page.keyboard.press(RELEASE_KEY);
  await expect(page.locator("#screen")).not.toBeFocused();
  await expect(page.locator("#screen-hint")).toBeHidden();

  // The terminal too.
  await page.locator("#terminal .xterm-helper-textarea").focus();
  await expect(page.locator("#terminal-hint")).toBeVisible();
  await page.keyboard.press(RELEASE_KEY);
  await expect(page.locator("#terminal-hint")).toBeHidden();
  expect(await page.evaluate(() => document.activeElement?.closest("#terminal") === null)).toBe(true);

  // The URL field has a real label.
  await expect(page.getByLabel("Image URL")).toHaveAttribute("id", "image-url");
  await page.evaluate(() => window.snap86.setAutosaveInterval(1));
});
