/**
 * Honest progress: a checkpoint's status only moves forward and ends, a boot reports its stages
 * after the download, uptime is the guest's own across a restore, autosaves are named by time.
 */
import type { Page } from "@playwright/test";
import { expect, test } from "../fixtures/snap86";

/** Every text `selector` shows from now on (its own text or an attribute), until `stop` resolves. */
async function recordWhile(page: Page, selector: string, attribute: string | null, stop: () => Promise<unknown>): Promise<string[]> {
  await page.evaluate(
    ([sel, attr]) => {
      const el = document.querySelector(sel)!;
      const seen: string[] = [];
      (window as unknown as { __seen: string[] }).__seen = seen;
      const read = () => (attr ? (el.getAttribute(attr) ?? "") : (el.textContent ?? ""));
      seen.push(read());
      new MutationObserver(() => {
        const now = read();
        if (now !== seen.at(-1)) seen.push(now);
      }).observe(el, { subtree: true, childList: true, characterData: true, attributes: true });
    },
    [selector, attribute] as const,
  );
  await stop();
  return page.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
}

test("checkpoint progress only moves forward and ends with Saved", async ({ vm }) => {
  const page = vm.page;
  const seen = await recordWhile(page, "#checkpoint-status .text", null, async () => {
    await page.locator("#checkpoint-button").click();
    // The summary of the resolved call (it says where the time went) is the last word.
    await expect(page.locator("#checkpoint-status .text")).toContainText("stored in");
  });
  const percents = seen.map((t) => /(\d+)%/.exec(t)?.[1]).filter((p): p is string => p !== undefined).map(Number);
  for (let i = 1; i < percents.length; i++) expect(percents[i], seen.join(" | ")).toBeGreaterThanOrEqual(percents[i - 1]);
  // Once this checkpoint's Saved shows (its done event may come a moment before the summary), only
  // Saved follows. (The line may start with an earlier checkpoint's Saved, before this one pauses.)
  const started = seen.findIndex((t) => !t.startsWith("Saved"));
  expect(started, seen.join(" | ")).toBeGreaterThanOrEqual(0);
  const firstSaved = seen.findIndex((t, i) => i > started && t.startsWith("Saved"));
  expect(firstSaved, seen.join(" | ")).toBeGreaterThan(started);
  for (const t of seen.slice(firstSaved)) expect(t, seen.join(" | ")).toMatch(/^Saved/);
  // Nothing comes after the summary (a late progress event must not reopen it).
  await vm.run("true"); // a round trip through the worker: anything in flight has arrived
  expect(await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen)).toEqual(seen);
});

// One reboot for both: a cold boot is among the suite's longest steps.
test("reboot power-cycles the guest to a fresh shell, showing the boot's stages after the download, in order", async ({ vm }) => {
  const page = vm.page;
  await vm.run("echo before-reboot > /tmp/marker");
  const stages = await recordWhile(page, "#boot-progress", "data-stage", async () => {
    await page.locator("#reboot").click();
    await expect(page.locator("#boot-progress")).toBeVisible();
    await expect(page.locator("#boot-progress")).toBeHidden({ timeout: 150_000 });
  });
  const order = ["kernel", "drivers", "disk", "init", "shell"];
  const shown = stages.filter((s) => s !== "");
  expect(shown[0]).toBe("kernel");
  expect(shown.length, shown.join(" → ")).toBeGreaterThanOrEqual(3);
  for (let i = 1; i < shown.length; i++) expect(order.indexOf(shown[i])).toBeGreaterThan(order.indexOf(shown[i - 1]));
  expect(await vm.run("echo up")).toBe("up");
  // /tmp is a tmpfs: a real reboot empties it.
  expect(await vm.run("cat /tmp/marker 2>&1")).toContain("No such file");
  // Booted within the shell timeout (a slow machine boots in a minute or more).
  expect(Number(await vm.run("cut -d. -f1 /proc/uptime"))).toBeLessThan(150);
});

test("uptime is the guest's own and continues across a restore", async ({ vm }) => {
  const page = vm.page;
  const guestSeconds = async () => Number((await vm.run("cut -d' ' -f1 /proc/uptime")).trim());
  const cp = await page.evaluate(() => window.snap86.checkpoint({ label: "uptime" }));
  const before = await guestSeconds();
  await page.evaluate((id) => window.snap86.restore(id), cp.id);
  const after = await guestSeconds();
  const shownMs = (await page.evaluate(() => window.snap86.state())).uptimeMs;
  // The machine's clock runs ahead of /proc/uptime by the firmware's time, never behind it.
  expect(shownMs).toBeGreaterThanOrEqual(after * 1000 - 1000);
  expect(after).toBeGreaterThan(before - 5);
  const text = (await page.locator("#status-uptime").textContent()) ?? "";
  const [m, s] = /(\d+):(\d+)$/.exec(text)!.slice(1).map(Number);
  expect(m * 60 + s).toBeGreaterThanOrEqual(Math.floor(before) - 1);
});

test("autosave rows are named by the time they were taken", async ({ vm }) => {
  const page = vm.page;
  await page.evaluate(() => window.snap86.checkpoint({ autosave: true }));
  const row = page.locator("#checkpoint-list li.checkpoint.autosave").first();
  await expect(row.locator("button.label")).toHaveText(/^Session at \d/);
  await expect(row.locator(".tag.autosave")).toHaveText("autosave");
});
