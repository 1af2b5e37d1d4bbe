/**
 * A user's machine travels: a share link carries its image (uploaded as encrypted objects, or
 * named by its public URL and read from there by the opener, every block checked against its
 * hash), and a .snap86 file carries the image's blocks. Each is opened in a fresh browser context
 * (a profile that never saw the image): the counter comes back to the checkpoint's count, on
 * the screen and in RAM. A floppy, a hard disk and a CD-ROM (read-only: its image is all it
 * has). One boot per image on the sharer's side, reused by the steps (serial).
 */
import { readFile, writeFile } from "node:fs/promises";
import type { Browser, Page } from "@playwright/test";
import { expect, openApp, test } from "../fixtures/snap86";
import { bootByUrl, countReaches, counterWentBack, lastCount, restoresCounterBack } from "../support/counter-guest";
import { objectFiles, storeDir } from "../support/store-objects";
import { clearServedLog, servedLog } from "../support/test-images";
import { explained } from "../support/page-state";

test.describe.configure({ mode: "serial" });

/** Opens a link in a fresh context (an empty profile); resolves once it opened or failed. */
async function openFresh(browser: Browser, link: string): Promise<{ page: Page; state: string | null; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(link);
  const status = page.locator("#share-status");
  await expect(status).toHaveAttribute("data-state", /opened|failed/, { timeout: 240_000 });
  return { page, state: await status.getAttribute("data-state"), close: () => context.close() };
}

/** Opens a link through the API in a fresh context: the result names the machine it booted. */
async function openFreshByApi(browser: Browser, link: string): Promise<{ page: Page; state: string | null; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await openApp(page);
  const opened = await page.evaluate((l) => window.snap86.openShare(l), link);
  expect(opened.config?.drives?.map((d) => d.kind)).toHaveLength(1);
  return { page, state: "opened", close: () => context.close() };
}

/** The opened machine is the checkpoint's: its screen shows the count of the capture, and it counts on from there. */
async function isTheCheckpoint(page: Page, cp: { low: number; high: number; ahead: number }): Promise<void> {
  const screen = await page.evaluate(() => window.snap86.screenText());
  expect(screen).toMatch(new RegExp(`count ${cp.low}\\b`));
  expect(screen).not.toMatch(new RegExp(`count ${cp.ahead}\\b`));
  await counterWentBack(page, 0, cp.low, cp.high + 1);
  // A cold boot would print the banner first: this one went on from the checkpoint.
  expect(await page.evaluate(() => window.snap86.serialText())).not.toContain("snap86 counter on drive");
}

for (const { image, kind, drive } of [
  { image: "counter-floppy.img", kind: "fda", drive: "floppy" },
  { image: "counter-disk.img", kind: "hda", drive: "hard disk" },
  { image: "counter-cd.iso", kind: "cdrom", drive: "CD-ROM" },
] as const) {
  test.describe(`${image} (${drive})`, () => {
    let page: Page;
    /** The checkpoint "counting", the counts just before and after it, and a count the sharer reached later. */
    let cp: { id: string; low: number; high: number; ahead: number };
    /** Store objects the URL way's share uploaded (everything but the image). */
    let withoutImage: Map<string, number>;

    test.beforeAll(async ({ browser }) => {
      page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    });
    test.afterAll(async () => {
      await page.context().close();
    });

    test("checkpoint of the machine booted by URL", async () => {
      test.setTimeout(240_000);
      expect(storeDir).not.toBe("");
      await openApp(page);
      await bootByUrl(page, image);
      await countReaches(page, 3);
      const low = await lastCount(page);
      const taken = await page.evaluate(() => window.snap86.checkpoint({ label: "counting" }));
      cp = { id: taken.id, low, high: (await lastCount(page)) + 1, ahead: 0 };
      // The sharer goes on counting: an opener that showed these counts would not run the checkpoint.
      await countReaches(page, cp.high + 12);
      cp.ahead = await lastCount(page);
      await expect(page.locator("#share-button")).toBeEnabled();
      await expect(page.locator("#share-image-by")).toBeVisible();
    });

    test("share by the image's URL: the opener reads the image from there and runs the checkpoint", async ({ browser }) => {
      test.setTimeout(360_000);
      const before = await objectFiles();
      const shared = await page.evaluate((id) => window.snap86.share(id, { imageBy: "url" }), cp.id);
      withoutImage = new Map([...(await objectFiles())].filter(([path]) => !before.has(path)));
      await clearServedLog();
      // The floppy's link is opened by navigating to it, the disk's through the API.
      const b = kind === "fda" ? await openFresh(browser, shared.link) : await openFreshByApi(browser, shared.link);
      try {
        expect(b.state, (await b.page.locator("#error").textContent()) ?? "").toBe("opened");
        // The image came from its URL (the test image server), not from the store.
        expect((await servedLog()).some((r) => r.path.endsWith(`/${image}`))).toBe(true);
        await isTheCheckpoint(b.page, cp);
        const kept = await b.page.evaluate(() => window.snap86.keptImages());
        expect(kept.map((k) => [k.name, k.url !== undefined])).toEqual([[image, true]]);
        // Either way the page follows the opened machine: a reload brings it back, not the built-in guest.
        await openApp(b.page, "");
        await explained(b.page, () => expect(b.page.locator("#notice")).toContainText(/Resumed your machine|Your image booted again/, { timeout: 120_000 }));
        await countReaches(b.page, 1);
      } finally {
        await b.close();
      }
    });

    test("share with the image uploaded: a fresh profile runs the checkpoint, and a reload resumes it", async ({ browser }) => {
      test.setTimeout(420_000);
      const before = await objectFiles();
      // The UI way: the Share button shares the current checkpoint (the one taken), image uploaded.
      await page.locator("#share-image-by").selectOption("upload");
      await page.locator("#share-button").click();
      await expect(page.locator("#share-status")).toHaveAttribute("data-state", "shared", { timeout: 120_000 });
      const link = await page.locator("#share-link").inputValue();
      const imageObjects = [...(await objectFiles())].filter(([path]) => !before.has(path) && !withoutImage.has(path));
      expect(imageObjects.length).toBeGreaterThan(0);
      const b = await openFresh(browser, link);
      try {
        expect(b.state, (await b.page.locator("#error").textContent()) ?? "").toBe("opened");
        await isTheCheckpoint(b.page, cp);
        // Its blocks came on demand, the rest in the background: then it is kept whole, needing the store no more.
        await expect.poll(async () => (await b.page.evaluate(() => window.snap86.keptImages())).map((k) => [k.name, k.complete]), { timeout: 120_000 }).toEqual([[image, true]]);
        // Without the sharer: a reload brings this machine back from its kept image and resumes it.
        await countReaches(b.page, cp.high + 4);
        await b.page.evaluate(() => window.snap86.checkpoint({ autosave: true }));
        await openApp(b.page, "");
        await explained(b.page, () => expect(b.page.locator("#notice")).toContainText("Resumed your machine", { timeout: 120_000 }));
        await countReaches(b.page, 0);
        expect(await b.page.evaluate(() => window.snap86.serialText())).not.toContain("snap86 counter on drive");
      } finally {
        await b.close();
      }
      if (kind !== "fda") return;
      // The image's objects damaged in the store: a fresh opener refuses the VM as damaged, runs nothing and lists nothing.
      const originals = await Promise.all(imageObjects.map(([path]) => readFile(path)));
      await Promise.all(imageObjects.map(([path], i) => writeFile(path, originals[i].subarray(0, originals[i].byteLength >> 1))));
      try {
        const c = await openFresh(browser, link);
        expect(c.state).toBe("failed");
        await expect(c.page.locator("#error")).toContainText("The shared checkpoint is damaged");
        await expect(c.page.locator("#status-state")).not.toHaveText("running");
        expect(await c.page.evaluate(() => window.snap86.checkpoints())).toEqual([]);
        await c.close();
      } finally {
        await Promise.all(imageObjects.map(([path], i) => writeFile(path, originals[i])));
      }
    });

    test("Export, then Import in a fresh profile that never saw the image: boot it from Kept, restore, the counter comes back", async ({ browser }) => {
      test.setTimeout(300_000);
      const downloading = page.waitForEvent("download");
      await page.locator(`li.checkpoint[data-id="${cp.id}"] button.export`).click();
      const file = await (await downloading).path();
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      try {
        const other = await context.newPage();
        await openApp(other);
        await other.locator("#checkpoint-import").setInputFiles({ name: "counting.snap86", mimeType: "application/octet-stream", buffer: await readFile(file) });
        await expect(other.locator("#notice")).toContainText("Imported “counting”");
        // The file brought the image: it is kept here, and boots without its URL or file.
        await expect(other.locator("#image-kept option", { hasText: image })).toHaveCount(1);
        await clearServedLog();
        await other.locator("#image-kept").selectOption({ label: image });
        await other.locator("#image-boot").click();
        await expect(other.locator("#status-state")).toHaveText("running", { timeout: 120_000 });
        // Past the checkpoint's counts, so going back to them can only be the restore.
        await countReaches(other, cp.high + 12);
        expect(await servedLog()).toEqual([]);
        await expect(other.locator(`li.checkpoint[data-id="${cp.id}"]`)).not.toHaveClass(/other-machine/);
        await restoresCounterBack(other, cp);
      } finally {
        await context.close();
      }
    });
  });
}
