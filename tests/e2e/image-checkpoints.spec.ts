/**
 * A user's own image gets what the built-in guest has: checkpoints, lazy and eager restore, a
 * reset point, and a reload that resumes its newest autosave. One page per image, reused by the
 * steps (serial), each booted by URL from the test image server (another origin, CORS + Range).
 *
 * The real-mode counter (counter.asm) prints "count N" on COM1 twice a second from a counter in
 * RAM: a restore is proven when the counter goes back. mini.iso's Linux kernel enables paging
 * (checked in the CPU's CR0); its restore is proven when the kernel prints again, after the
 * restore, a line it printed after the checkpoint.
 */
import { readFile } from "node:fs/promises";
import type { Page } from "@playwright/test";
import { expect, openApp, test } from "../fixtures/snap86";
import { bannerAfter as bannerAfterFrom, bootByUrl, counterWentBack, countReaches, lastCount, reloadResumesAutosave, restoresCounterBack, serialLength, useAsResetPoint } from "../support/counter-guest";

/** The counter's banner, printed by a cold boot only: `drive` 00 (floppy) or 80 (hard disk). */
const bannerAfter = (page: Page, from: number, drive: string) => bannerAfterFrom(page, from, `snap86 counter on drive ${drive}`);

test.describe.configure({ mode: "serial" });

/**
 * A whole line the kernel printed on COM1 after serial offset `mark` (the first line may be cut,
 * the last unfinished), without its timestamp, which a restore does not repeat; "" until one came.
 */
async function lineAfter(page: Page, mark: number): Promise<string> {
  const lines = (await page.evaluate(() => window.snap86.serialText())).slice(mark).split(/\r?\n/).slice(1, -1);
  return lines.map((l) => l.replace(/^\[\s*\d+\.\d+\]\s*/, "").trim()).find((l) => l.length >= 12 && !/\d{3,}/.test(l)) ?? "";
}

let page: Page;

test.describe("the real-mode counter floppy", () => {
  /** The checkpoint "counting" and the counts printed just before and after it was taken. */
  let cp: { id: string; low: number; high: number };

  /** A reset wipes the session's output too: the transcript starts again, counting from the reset point. */
  async function afterReset(page: Page, mark: number): Promise<void> {
    await expect.poll(() => serialLength(page), { timeout: 60_000 }).toBeLessThan(mark);
    await counterWentBack(page, 0, cp.low, cp.high + 1);
  }

  test.beforeAll(async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
  });
  test.afterAll(async () => {
    await page.context().close();
  });

  test("boots by URL; Checkpoint works, Reset says how to get a reset point", async () => {
    test.setTimeout(180_000);
    await openApp(page);
    await bootByUrl(page, "counter-floppy.img");
    await countReaches(page, 3);
    await expect(page.locator("#checkpoint-button")).toBeEnabled();
    const reset = page.locator("#reset");
    await expect(reset).toBeDisabled();
    await expect(reset).toHaveAttribute("aria-description", /Use as reset point/);
    await expect(reset).toHaveAttribute("title", /no reset point yet/);
    // Share works for this machine too (its image travels with the link: image-share.spec.ts), with the choice of how.
    await expect(page.locator("#share-button")).toBeEnabled();
    await expect(page.locator("#share-image-by")).toBeVisible();
    const low = await lastCount(page);
    const taken = await page.evaluate(() => window.snap86.checkpoint({ label: "counting" }));
    const high = (await lastCount(page)) + 1;
    cp = { id: taken.id, low, high };
    expect(taken.pauseMs).toBeGreaterThan(0);
    const row = page.locator(`li.checkpoint[data-id="${taken.id}"]`);
    await expect(row).toBeVisible();
    await expect(row).not.toHaveClass(/other-machine/);
    // Never enabled paging: the lazy restore below runs a real-mode guest.
    expect(await page.evaluate(() => window.snap86.cpuMode())).toEqual({ paging: false, pae: false });
  });

  test("lazy restore brings the counter (RAM) and the screen back", async () => {
    test.setTimeout(180_000);
    const ahead = cp.high + 12;
    await countReaches(page, ahead);
    const mark = await serialLength(page);
    const { result, screen } = await page.evaluate(async (id) => {
      const result = await window.snap86.restore(id);
      return { result, screen: await window.snap86.screenText() };
    }, cp.id);
    expect(result.mode).toBe("lazy");
    // The screen is the checkpoint's: the counts printed since are not on it.
    expect(screen).toMatch(new RegExp(`count ${cp.low}\\b`));
    expect(screen).not.toMatch(new RegExp(`count ${ahead}\\b`));
    await counterWentBack(page, mark, cp.low, cp.high + 1);
  });

  test("eager restore does the same", async () => {
    test.setTimeout(180_000);
    await countReaches(page, cp.high + 12);
    const mark = await serialLength(page);
    const result = await page.evaluate((id) => window.snap86.restore(id, { mode: "eager" }), cp.id);
    expect(result.mode).toBe("eager");
    await counterWentBack(page, mark, cp.low, cp.high + 1);
  });

  test("Export, then Import in a fresh profile that has the same image: the counter comes back", async ({ browser }) => {
    test.setTimeout(240_000);
    const downloading = page.waitForEvent("download");
    await page.locator(`li.checkpoint[data-id="${cp.id}"] button.export`).click();
    const file = await (await downloading).path();
    const context = await browser.newContext();
    try {
      const other = await context.newPage();
      await openApp(other);
      await bootByUrl(other, "counter-floppy.img");
      await countReaches(other, cp.high + 12);
      await other.locator("#checkpoint-import").setInputFiles({ name: "counting.snap86", mimeType: "application/octet-stream", buffer: await readFile(file) });
      await expect(other.locator("#notice")).toContainText("Imported “counting”");
      await restoresCounterBack(other, cp);
    } finally {
      await context.close();
    }
  });

  test("another machine refuses the checkpoint with a coded error and lists it as another machine's", async () => {
    test.setTimeout(180_000);
    let mark = await serialLength(page);
    await bootByUrl(page, "counter-disk.img");
    await bannerAfter(page, mark, "80");
    const refused = await page.evaluate(async (id) => {
      try {
        await window.snap86.restore(id);
        return null;
      } catch (e) {
        return { code: (e as { code?: string }).code, message: (e as Error).message };
      }
    }, cp.id);
    expect(refused?.code).toBe("checkpoint-incompatible");
    expect(refused?.message).toContain("belongs to another machine (fda counter-floppy.img), not the one running (hda counter-disk.img)");
    await expect(page.locator(`li.checkpoint[data-id="${cp.id}"]`)).toHaveClass(/other-machine/);
    await expect(page.locator(`li.checkpoint[data-id="${cp.id}"] button.reset-point`)).toHaveCount(0);
    // The floppy again: its checkpoints are its own again.
    mark = await serialLength(page);
    await bootByUrl(page, "counter-floppy.img");
    await bannerAfter(page, mark, "00");
    await expect(page.locator(`li.checkpoint[data-id="${cp.id}"]`)).not.toHaveClass(/other-machine/);
  });

  test("Use as reset point: Reset returns to it in place and wipes the session", async () => {
    test.setTimeout(180_000);
    await useAsResetPoint(page, cp.id, "counting");
    const point = (await page.evaluate(() => window.snap86.checkpoints())).find((c) => c.golden && c.parent === cp.id);
    expect(point).toBeDefined();
    await countReaches(page, cp.high + 12);
    const autosave = await page.evaluate(() => window.snap86.checkpoint({ autosave: true }));
    const mark = await serialLength(page);
    await page.locator("#reset").click();
    await afterReset(page, mark);
    // The session's autosave went with the reset.
    await expect.poll(async () => (await page.evaluate(() => window.snap86.checkpoints())).some((c) => c.id === autosave.id)).toBe(false);
  });

  test("Reset with the standby machine switches to it", async () => {
    test.setTimeout(240_000);
    await page.evaluate(() => window.snap86.setStandby(true));
    expect(await page.evaluate(() => window.snap86.waitForStandby({ timeoutMs: 120_000 }))).toBe("ready");
    await countReaches(page, cp.high + 12);
    const mark = await serialLength(page);
    const outcome = await page.evaluate(() => window.snap86.reset());
    expect(outcome.usedStandby).toBe(true);
    await afterReset(page, mark);
  });

  test("a reload resumes the newest autosave instead of booting again", async () => {
    test.setTimeout(240_000);
    await page.evaluate(() => window.snap86.setStandby(false));
    await reloadResumesAutosave(page, cp.high + 4);
  });
});

test.describe("mini.iso (Linux, paging)", () => {
  test.beforeAll(async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
  });
  test.afterAll(async () => {
    await page.context().close();
  });

  let cp: { id: string; later: string };

  test("checkpoint of a kernel with paging on", async () => {
    test.setTimeout(420_000);
    await openApp(page);
    await bootByUrl(page, "mini.iso", 256);
    await page.evaluate(() => window.snap86.waitForSerial("Linux version", { fromStart: true, timeoutMs: 360_000 }));
    await expect.poll(() => page.evaluate(() => window.snap86.cpuMode()), { timeout: 120_000 }).toMatchObject({ paging: true });
    const mode = await page.evaluate(() => window.snap86.cpuMode());
    // PAE or not is the kernel's choice (Debian's installer runs the 686 flavour): reported, not required.
    test.info().annotations.push({ type: "cpu mode at checkpoint", description: JSON.stringify(mode) });
    console.log(`mini.iso cpu mode at checkpoint: ${JSON.stringify(mode)}`);
    const taken = await page.evaluate(() => window.snap86.checkpoint({ label: "kernel" }));
    const mark = await serialLength(page);
    // A line the kernel prints after the checkpoint (its timestamp aside, the same after a restore).
    await expect.poll(() => lineAfter(page, mark), { timeout: 240_000 }).not.toBe("");
    cp = { id: taken.id, later: await lineAfter(page, mark) };
  });

  for (const mode of ["lazy", "eager"] as const) {
    test(`${mode} restore: the kernel runs on from the checkpoint`, async () => {
      test.setTimeout(300_000);
      const result = await page.evaluate(
        async ([id, m, later]) => {
          const r = await window.snap86.restore(id, { mode: m });
          // Printed again: the guest went back to before it and ran on through it.
          await window.snap86.waitForSerial(later, { timeoutMs: 240_000 });
          return r;
        },
        [cp.id, mode, cp.later] as const,
      );
      expect(result.mode).toBe(mode);
      expect(await page.evaluate(() => window.snap86.cpuMode())).toMatchObject({ paging: true });
    });
  }
});
