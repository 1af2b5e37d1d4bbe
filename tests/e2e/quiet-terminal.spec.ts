import type { Page } from "@playwright/test";
import { bootVm, expect, test } from "../fixtures/snap86";

/** Any trace of run()'s markers: the typed `"__SNAP86""_…` form or the printed `__SNAP86_…__`. */
const MARKER = /__SNAP86/;

/** The user's terminal: its transcript since the last clear and what xterm.js shows. */
async function expectQuietTerminal(page: Page, when: string): Promise<void> {
  expect(await page.evaluate(() => window.snap86.serialText()), `serial transcript ${when}`).not.toMatch(MARKER);
  const shown = await page.locator("#terminal .xterm-rows").textContent();
  expect(shown ?? "", `terminal ${when}`).not.toMatch(MARKER);
}

test("the page's probes and run() never show in the user's terminal: boot, checkpoint, restore, reset", async ({ page }) => {
  const vm = await bootVm(page);
  expect(await vm.run("echo ran-quietly")).toBe("ran-quietly");
  expect(await vm.run("printf 'a\\nb\\n\\nc'")).toBe("a\nb\n\nc");
  // The automation shell is its own: the user's ttyS0 shell is not the one answering.
  expect(await vm.run("tty")).toBe("/dev/ttyS1");
  await expectQuietTerminal(page, "after boot");

  const cp = await page.evaluate(() => window.snap86.checkpoint({ label: "quiet" }));
  await expectQuietTerminal(page, "after a checkpoint");
  await page.evaluate((id) => window.snap86.restore(id), cp.id);
  expect(await vm.run("echo after-restore")).toBe("after-restore");
  await expectQuietTerminal(page, "after a restore");

  await vm.reset();
  expect(await vm.run("echo after-reset")).toBe("after-reset");
  await expectQuietTerminal(page, "after a reset");

  // The user's terminal still has its own shell, and shows what the user typed there.
  await page.locator("#terminal .xterm-helper-textarea").focus();
  await page.keyboard.type("echo typed-by-user-$((1+1))");
  await page.keyboard.press("Enter");
  await expect(page.locator("#terminal")).toContainText("typed-by-user-2");
  await expectQuietTerminal(page, "after typing");
});
