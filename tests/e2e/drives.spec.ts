/**
 * A user's drives: several at once with a boot order (API and UI), how their bytes are read (HTTP
 * Range, whole from a server without it, slices of a picked file that is never read whole), and
 * the copy-on-write overlay that keeps a hard disk's writes in IndexedDB. The counter images
 * (scripts/test-images/counter.asm) print their BIOS boot drive: 00 floppy, 80 hard disk, e0 CD.
 */
import { closeSync, copyFileSync, ftruncateSync, openSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { expect, openApp, test } from "../fixtures/snap86";
import { clearServedLog, imageUrl, servedLog, testImage } from "../support/test-images";

const FLOPPY = imageUrl("counter-floppy.img");
const DISK = imageUrl("counter-disk.img");
const CD = imageUrl("counter-cd.iso");

/** Waits for the counter's banner of a fresh boot on `drive` (serial: the whole line, from the start). */
async function bootedFrom(page: Page, drive: string): Promise<void> {
  await page.evaluate((d) => window.snap86.waitForSerial(`snap86 counter on drive ${d}`, { fromStart: true, timeoutMs: 60_000 }), drive);
  await expect.poll(() => page.evaluate(() => window.snap86.screenText())).toContain(`snap86 counter on drive ${drive}`);
}

async function bootDrives(page: Page, drives: { url: string; kind?: "fda" | "hda" | "cdrom" }[]): Promise<void> {
  await page.evaluate((d) => window.snap86.boot({ drives: d }), drives);
}

test("boot({ drives }) puts a floppy, a hard disk and a CD-ROM in at once; the first listed boots", async ({ page }) => {
  await openApp(page);
  await bootDrives(page, [{ url: FLOPPY }, { url: DISK }, { url: CD }]);
  await bootedFrom(page, "00");
  await expect(page.locator("#notice")).toContainText("boots from the floppy first");
  await bootDrives(page, [{ url: CD }, { url: FLOPPY }, { url: DISK }]);
  await bootedFrom(page, "e0");
  await bootDrives(page, [{ url: DISK }, { url: CD }]);
  await bootedFrom(page, "80");
  // One image per drive: the API says which two collide, and the running machine stays.
  const refused = await page.evaluate((u) => window.snap86.boot({ drives: [{ url: u[0], kind: "fda" }, { url: u[1], kind: "fda" }] }).then(() => "booted", (e: Error) => e.message), [FLOPPY, DISK]);
  expect(refused).toMatch(/same drive/);
  await expect(page.locator("#status-state")).toHaveText("running");
  await page.evaluate(() => window.snap86.powerOff());
});

test("the page's Add drive keeps images as drives, Boot first changes the boot order", async ({ page }) => {
  await openApp(page);
  await page.locator("#image-url").fill(FLOPPY);
  await page.locator("#image-add").click();
  await page.locator("#image-url").fill(DISK);
  await page.locator("#image-add").click();
  await expect(page.locator("#image-url")).toHaveValue("");
  // The third drive stays in the form: a picked file, its drive shown before it boots.
  await page.locator("#image-file").setInputFiles(testImage("counter-cd.iso").path);
  await expect(page.locator("#image-detected")).toContainText("Auto: CD-ROM");
  const items = page.locator("#drive-list li");
  await expect(items).toHaveCount(2);
  await expect(items.nth(0)).toContainText("counter-floppy.img");
  await items.nth(1).getByRole("button", { name: "Boot first" }).click();
  await expect(items.nth(0)).toContainText("counter-disk.img");
  await page.locator("#image-boot").click();
  await bootedFrom(page, "80");
  await page.evaluate(() => window.snap86.powerOff());
});

test("an image by URL is read by Range: only the blocks the guest reads, never the whole file", async ({ page }) => {
  await openApp(page);
  await clearServedLog();
  await page.locator("#image-url").fill(DISK);
  await page.locator("#image-boot").click();
  await page.evaluate(() => window.snap86.waitForSerial("count 2", { fromStart: true, timeoutMs: 60_000 }));
  const served = (await servedLog()).filter((r) => r.path === "/counter-disk.img");
  expect(served.length).toBeGreaterThan(0);
  expect(served.every((r) => r.status === 206)).toBe(true);
  const bytes = served.reduce((n, r) => n + r.bytes, 0);
  expect(bytes).toBeLessThan(testImage("counter-disk.img").size / 2);
  await page.evaluate(() => window.snap86.powerOff());
});

test("blocks read once are kept in the host cache: booting the image again asks the server for its first block only", async ({ page }) => {
  await openApp(page);
  await page.evaluate((u) => window.snap86.boot({ image: { url: u } }), DISK);
  await page.evaluate(() => window.snap86.waitForSerial("count 2", { fromStart: true, timeoutMs: 60_000 }));
  await page.evaluate(() => window.snap86.powerOff());
  await page.reload();
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await clearServedLog();
  await page.evaluate((u) => window.snap86.boot({ image: { url: u } }), DISK);
  await page.evaluate(() => window.snap86.waitForSerial("count 2", { fromStart: true, timeoutMs: 60_000 }));
  // The first block identifies the file (with its Last-Modified): read every time, the rest is cached.
  const served = (await servedLog()).filter((r) => r.path === "/counter-disk.img");
  expect(served.map((r) => r.range)).toEqual(["bytes=0-65535"]);
  await page.evaluate(() => window.snap86.powerOff());
});

test("a server without Range still works: the image is downloaded whole, once", async ({ page }) => {
  await openApp(page);
  await clearServedLog();
  // By the API: the form would also read the URL's head to show its drive (one more request).
  await page.evaluate((u) => window.snap86.boot({ image: { url: u } }), imageUrl("counter-disk.img", "no-range/"));
  await bootedFrom(page, "80");
  const served = (await servedLog()).filter((r) => r.path.endsWith("/counter-disk.img"));
  expect(served.map((r) => r.status)).toEqual([200]);
  await page.evaluate(() => window.snap86.powerOff());
});

test("a server without CORS gets a message that says what the server must send", async ({ page }) => {
  await openApp(page);
  await page.locator("#image-url").fill(imageUrl("counter-disk.img", "no-cors/"));
  await page.locator("#image-boot").click();
  await expect(page.locator("#error")).toContainText("Access-Control-Allow-Origin");
  await expect(page.locator("#error")).toContainText("Range");
});

test("an ISO of 4 GiB and more, larger than the browser will store, boots from the file by slices and the page names the quota", async ({ page }) => {
  await openApp(page);
  // The counter CD at the start of a sparse file (no disk space used) of at least 4 GiB and more
  // than this profile's quota: it cannot be read whole, nor kept.
  const { quota } = await page.evaluate(() => navigator.storage.estimate());
  const size = Math.max(4 * 1024 ** 3, (quota ?? 0) + 1024 ** 3) + 2048;
  const path = join(tmpdir(), `snap86-big-${process.pid}.iso`);
  copyFileSync(testImage("counter-cd.iso").path, path);
  const fd = openSync(path, "r+");
  ftruncateSync(fd, size - (size % 2048));
  closeSync(fd);
  await page.locator("#image-file").setInputFiles(path);
  await expect(page.locator("#image-detected")).toContainText("Auto: CD-ROM");
  await page.locator("#image-boot").click();
  await expect(page.locator("#notice")).toContainText("is larger than this browser will store for snap86 (quota ");
  await expect(page.locator("#notice")).toContainText("after a reload it needs the file again");
  await bootedFrom(page, "e0");
  expect(await page.evaluate(() => window.snap86.keptImages())).toEqual([]);
  await page.evaluate(() => window.snap86.powerOff());
  unlinkSync(path);
});

test("a hard disk's writes go to a copy-on-write overlay in IndexedDB: they survive a reload, the served image does not change", async ({ page }) => {
  await openApp(page);
  await page.locator("#image-url").fill(DISK);
  await page.locator("#image-boot").click();
  await page.evaluate(() => window.snap86.waitForSerial("count 3", { fromStart: true, timeoutMs: 60_000 }));
  await page.evaluate(() => window.snap86.powerOff()); // flushes the overlay
  await page.reload();
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await page.evaluate((u) => window.snap86.boot({ image: { url: u } }), DISK);
  const resumed = await page.evaluate(() => window.snap86.waitForSerial(/resumed at (\d+)/, { fromStart: true, timeoutMs: 60_000 }));
  expect(Number(/\d+/.exec(resumed)![0])).toBeGreaterThanOrEqual(3);
  await page.evaluate(() => window.snap86.powerOff());
  // The server's copy is untouched: a browser without this overlay boots the image from 0.
  const fresh = await page.context().browser()!.newPage();
  await openApp(fresh);
  await fresh.evaluate((u) => window.snap86.boot({ image: { url: u } }), DISK);
  await fresh.evaluate(() => window.snap86.waitForSerial("count 1", { fromStart: true, timeoutMs: 60_000 }));
  expect(await fresh.evaluate(() => window.snap86.serialText())).not.toContain("resumed");
  await fresh.evaluate(() => window.snap86.powerOff());
  await fresh.close();
});

test("an image chosen as a file is kept in IndexedDB: after a reload it boots without the file, its disk writes kept", async ({ page }) => {
  await openApp(page);
  await page.locator("#image-file").setInputFiles(testImage("counter-disk.img").path);
  await page.locator("#image-boot").click();
  await page.evaluate(() => window.snap86.waitForSerial("count 3", { fromStart: true, timeoutMs: 60_000 }));
  // Kept in the background: complete once every block is stored.
  await expect.poll(() => page.evaluate(async () => (await window.snap86.keptImages()).map((k) => `${k.name} ${k.complete}`))).toEqual(["counter-disk.img true"]);
  await page.evaluate(() => window.snap86.powerOff());
  await page.reload();
  await page.waitForFunction(() => typeof window.snap86 === "object");
  // No file now: the Kept list offers it.
  await page.locator("#image-kept").selectOption({ label: "counter-disk.img" });
  await expect(page.locator("#image-boot")).toHaveText("Boot counter-disk.img");
  await page.locator("#image-boot").click();
  const resumed = await page.evaluate(() => window.snap86.waitForSerial(/resumed at (\d+)/, { fromStart: true, timeoutMs: 60_000 }));
  expect(Number(/\d+/.exec(resumed)![0])).toBeGreaterThanOrEqual(3);
  await expect(page.locator("#notice")).toContainText("counter-disk.img boots as a hard disk");
  await page.evaluate(() => window.snap86.powerOff());
  // Forget deletes the kept copy (the browser's storage comes back); the list is empty again.
  await page.locator("#image-kept").selectOption({ label: "counter-disk.img" });
  await page.locator("#image-forget").click();
  await expect.poll(() => page.evaluate(() => window.snap86.keptImages())).toEqual([]);
  await expect(page.locator("#image-kept option")).toHaveCount(1);
  await expect(page.locator("#image-forget")).toBeDisabled();
});

test("Wipe disk drops a user's hard disk writes: the image boots as served again", async ({ page }) => {
  await openApp(page);
  await page.locator("#image-url").fill(DISK);
  await page.locator("#image-boot").click();
  await page.evaluate(() => window.snap86.waitForSerial("count 3", { fromStart: true, timeoutMs: 60_000 }));
  // The disk panel speaks of this image's overlay.
  await expect(page.locator("#disk-mode")).toHaveText("persistent overlay in IndexedDB");
  await expect(page.locator("#disk-wipe")).toBeEnabled();
  const firstLines = page.evaluate(() => window.snap86.waitForSerial(/snap86 counter on drive 80\r?\n(resumed at \d+|count \d+)/, { timeoutMs: 60_000 }));
  await page.locator("#disk-wipe").click();
  expect(await firstLines).toMatch(/count 0$/);
  await page.evaluate(() => window.snap86.powerOff());
});

test("a reload brings back the user's own image, never the built-in guest: a URL drive and a kept file", async ({ page }) => {
  await openApp(page);
  await page.locator("#image-url").fill(FLOPPY);
  await page.locator("#image-add").click();
  await page.locator("#image-file").setInputFiles(testImage("counter-disk.img").path);
  await page.locator("#drive-list li").first().waitFor();
  await page.locator("#image-boot").click();
  await bootedFrom(page, "00");
  await expect.poll(() => page.evaluate(async () => (await window.snap86.keptImages()).map((k) => `${k.name} ${k.complete}`))).toEqual(["counter-disk.img true"]);
  // A plain reload of the app (it would boot the built-in guest by itself before).
  await page.goto("/");
  await page.waitForFunction(() => typeof window.snap86 === "object");
  // Its newest autosave (taken as the page was hidden) resumes; without one it boots again.
  await expect(page.locator("#notice")).toContainText(/Resumed your machine|Your image booted again after the reload/, { timeout: 120_000 });
  await page.evaluate(() => window.snap86.waitForSerial(/count \d+/, { fromStart: true, timeoutMs: 60_000 }));
  expect(await page.evaluate(() => window.snap86.screenText())).toMatch(/count \d+/);
  expect(await page.evaluate(() => window.snap86.diskInfo())).toMatchObject({ mode: "persistent" });
  // The page remembers the kept copy, not the file (which a reload no longer has).
  expect(await page.evaluate(() => localStorage.getItem("snap86.ownMachine"))).toContain("stored");
  await page.evaluate(() => window.snap86.powerOff());
});
