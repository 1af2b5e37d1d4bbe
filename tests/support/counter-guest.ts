/**
 * Reading the project's counter programs (scripts/test-images/counter.asm and pae.asm) from the
 * page: they print "count N" (pae.asm: "count N sum HHHHHHHH ok") on COM1 twice a second from a
 * counter in RAM, so a restore is proven when the counter goes back, and pae.asm's checksum over
 * 4 MiB of RAM must repeat the value it had the first time for each count.
 */
import type { Page } from "@playwright/test";
import { expect, openApp } from "../fixtures/snap86";
import { imageUrl } from "./test-images";

/** Boots the image by its URL, as a user would, and waits until the machine runs. */
export async function bootByUrl(page: Page, name: string, memoryMiB?: number): Promise<void> {
  if (memoryMiB) await page.locator("#memory").selectOption(String(memoryMiB));
  await page.locator("#image-url").fill(imageUrl(name));
  await page.locator("#image-boot").click();
  await expect(page.locator("#notice")).toContainText(`${name} boots as a`);
  await expect(page.locator("#status-state")).toHaveText("running", { timeout: 120_000 });
}

export const serialLength = (page: Page): Promise<number> => page.evaluate(() => window.snap86.serialText().length);

/** The counter's banner ("snap86 counter on drive 80", …), printed by a cold boot only, after serial offset `from`. */
export const bannerAfter = (page: Page, from: number, banner: string): Promise<void> =>
  expect.poll(async () => (await page.evaluate(() => window.snap86.serialText())).slice(from), { timeout: 90_000 }).toContain(banner);

/** Every "count N" the counter printed on COM1 after serial offset `from`. */
export async function countsSince(page: Page, from = 0): Promise<number[]> {
  const text = await page.evaluate(() => window.snap86.serialText());
  return [...text.slice(from).matchAll(/count (\d+)(?: sum [0-9a-f]{8} \w+)?\r?\n/g)].map((m) => Number(m[1]));
}

export async function lastCount(page: Page): Promise<number> {
  return (await countsSince(page)).at(-1) ?? -1;
}

export async function countReaches(page: Page, n: number): Promise<void> {
  await expect.poll(() => lastCount(page), { timeout: 90_000 }).toBeGreaterThanOrEqual(n);
}

/**
 * After a jump back to a state taken while the counter printed [low, high]: the guest prints a
 * count in that range again (it had gone past it before). Late serial output of the old run may
 * still arrive, so the counts are watched until a low one comes.
 */
export async function counterWentBack(page: Page, mark: number, low: number, high: number): Promise<void> {
  await expect.poll(async () => Math.min(...(await countsSince(page, mark)), Infinity), { timeout: 60_000 }).toBeLessThanOrEqual(high);
  expect(Math.min(...(await countsSince(page, mark)))).toBeGreaterThanOrEqual(low);
}

/** Restores checkpoint `cp` (lazily, the default) and waits until the counter went back to its counts. */
export async function restoresCounterBack(page: Page, cp: { id: string; low: number; high: number }): Promise<void> {
  const mark = await serialLength(page);
  const result = await page.evaluate((id) => window.snap86.restore(id), cp.id);
  expect(result.mode).toBe("lazy");
  await counterWentBack(page, mark, cp.low, cp.high + 1);
}

/** A checkpoint and the counts printed just before and after it was taken. */
export interface CountedCheckpoint {
  id: string;
  label: string;
  low: number;
  high: number;
}

/** Takes a checkpoint between two counts the guest printed. */
export async function checkpointBetweenCounts(page: Page, label: string): Promise<CountedCheckpoint> {
  const low = await lastCount(page);
  const taken = await page.evaluate((l) => window.snap86.checkpoint({ label: l }), label);
  const high = (await lastCount(page)) + 1;
  return { id: taken.id, label, low, high };
}

/** pae.asm's lines after serial offset `from`: count → its sum and "ok" | "BAD", as first printed. */
export async function paeSums(page: Page, from = 0): Promise<Map<number, { sum: string; status: string }>> {
  const text = await page.evaluate(() => window.snap86.serialText());
  const sums = new Map<number, { sum: string; status: string }>();
  for (const m of text.slice(from).matchAll(/count (\d+) sum ([0-9a-f]{8}) (\w+)\r?\n/g)) if (!sums.has(Number(m[1]))) sums.set(Number(m[1]), { sum: m[2], status: m[3] });
  return sums;
}

/**
 * An autosave once the guest counted to `count`, then a reload: the page resumes that autosave
 * (its notice says so) instead of booting the image again, and Reset is offered.
 */
export async function reloadResumesAutosave(page: Page, count: number): Promise<void> {
  await countReaches(page, count);
  await page.evaluate(() => window.snap86.checkpoint({ autosave: true }));
  await openApp(page, "");
  await expect(page.locator("#notice")).toContainText("Resumed your machine", { timeout: 120_000 });
  await countReaches(page, 0);
  // A cold boot prints its banner first; the resumed machine only counts on.
  expect(await page.evaluate(() => window.snap86.serialText())).not.toContain("snap86 counter on drive");
  await expect(page.locator("#reset")).toBeEnabled();
}

/** "Use as reset point" on checkpoint `id` (labelled `label`), with the standby machine off: Reset is offered then. */
export async function useAsResetPoint(page: Page, id: string, label: string): Promise<void> {
  await page.evaluate(() => window.snap86.setStandby(false));
  await page.locator(`li.checkpoint[data-id="${id}"] button.reset-point`).click();
  await expect(page.locator("#notice")).toContainText(`Reset now returns this machine to “${label}”`);
  await expect(page.locator("#reset")).toBeEnabled();
}
