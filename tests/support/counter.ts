/**
 * The real-mode counter test images (scripts/test-images/counter.asm) seen from a test: it prints
 * "count N" on COM1 twice a second from a counter in RAM, and its banner on a cold boot only.
 */
import type { Page } from "@playwright/test";
import { expect } from "../fixtures/snap86";
import { imageUrl } from "./test-images";

/** Boots the image by its URL, as a user would, and waits until the machine runs. */
export async function bootByUrl(page: Page, name: string, memoryMiB?: number): Promise<void> {
  if (memoryMiB) await page.locator("#memory").selectOption(String(memoryMiB));
  await page.locator("#image-url").fill(imageUrl(name));
  await page.locator("#image-boot").click();
  await expect(page.locator("#notice")).toContainText(`${name} boots as a`);
  await expect(page.locator("#status-state")).toHaveText("running", { timeout: 120_000 });
}

export const serialLength = (page: Page) => page.evaluate(() => window.snap86.serialText().length);

/** Every "count N" the counter printed on COM1 after serial offset `from`. */
export async function countsSince(page: Page, from = 0): Promise<number[]> {
  const text = await page.evaluate(() => window.snap86.serialText());
  return [...text.slice(from).matchAll(/count (\d+)\r?\n/g)].map((m) => Number(m[1]));
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
