/**
 * Every kind of user image end to end, beside image-checkpoints.spec.ts (the floppy, Linux with
 * paging): the hard disk and the CD-ROM booted as a file and by URL, checkpoint, lazy and eager
 * restore (screen and RAM back), reset point + Reset, reload resume; a floppy and a hard disk at
 * once; and a guest with PAE paging (scripts/test-images/pae.asm), whose checksum over 4 MiB of
 * RAM it keeps rewriting must come back exactly, restored lazily, eagerly, and from a second,
 * incremental checkpoint (dirty-page tracking under PAE). One page per image, reused by its steps.
 */
import type { Page } from "@playwright/test";
import { expect, openApp, test } from "../fixtures/snap86";
import {
  bannerAfter,
  bootByUrl,
  checkpointBetweenCounts,
  counterWentBack,
  countReaches,
  countsSince,
  paeSums,
  reloadResumesAutosave,
  serialLength,
  type CountedCheckpoint,
  useAsResetPoint,
} from "../support/counter-guest";
import { imageUrl, testImage } from "../support/test-images";

let page: Page;

/** The steps of one describe share its page, in order; a failure skips the rest of that describe only. */
function onePagePerDescribe(): void {
  test.describe.configure({ mode: "serial" });
  test.beforeAll(async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
  });
  test.afterAll(async () => {
    await page.context().close();
  });
}

/** Restores `cp` (its screen read right after), after the guest counted well past it. */
async function restoreFromAhead(cp: CountedCheckpoint, mode: "lazy" | "eager"): Promise<{ mark: number; ahead: number; screen: string }> {
  const ahead = cp.high + 12;
  await countReaches(page, ahead);
  const mark = await serialLength(page);
  const { result, screen } = await page.evaluate(
    async ([id, m]) => {
      const result = await window.snap86.restore(id, { mode: m });
      return { result, screen: await window.snap86.screenText() };
    },
    [cp.id, mode] as const,
  );
  expect(result.mode).toBe(mode);
  // Reported, not required: the time from the call until the guest ran again.
  console.log(`${cp.label}: ${mode} restore ${result.restoreMs.toFixed(1)} ms`);
  return { mark, ahead, screen };
}

/** The screen is the checkpoint's: it shows a count from before it, not the counts printed since. */
function screenIsTheCheckpoints(screen: string, cp: CountedCheckpoint, ahead: number): void {
  expect(screen).toMatch(new RegExp(`count ${cp.low}\\b`));
  expect(screen).not.toMatch(new RegExp(`count ${ahead}\\b`));
}

for (const kind of [
  { name: "counter-disk.img", drive: "80", what: "hard disk" },
  { name: "counter-cd.iso", drive: "e0", what: "CD-ROM" },
]) {
  const banner = `snap86 counter on drive ${kind.drive}`;

  test.describe(`the real-mode counter as a ${kind.what} (${kind.name})`, () => {
    onePagePerDescribe();
    let cp: CountedCheckpoint;

    test("boots as a file, then by URL; a checkpoint of the running program", async () => {
      test.setTimeout(240_000);
      await openApp(page);
      await page.locator("#image-file").setInputFiles(testImage(kind.name).path);
      await page.locator("#image-boot").click();
      await bannerAfter(page, 0, banner);
      await countReaches(page, 2);
      await expect(page.locator("#status-state")).toHaveText("running");
      const mark = await serialLength(page);
      await bootByUrl(page, kind.name);
      await bannerAfter(page, mark, banner);
      await expect.poll(async () => (await countsSince(page, mark)).length, { timeout: 90_000 }).toBeGreaterThanOrEqual(3);
      expect(await page.evaluate(() => window.snap86.cpuMode())).toEqual({ paging: false, pae: false });
      cp = await checkpointBetweenCounts(page, `${kind.what} counting`);
      await expect(page.locator(`li.checkpoint[data-id="${cp.id}"]`)).toBeVisible();
    });

    test("lazy restore brings the counter (RAM) and the screen back", async () => {
      test.setTimeout(180_000);
      const { mark, ahead, screen } = await restoreFromAhead(cp, "lazy");
      screenIsTheCheckpoints(screen, cp, ahead);
      await counterWentBack(page, mark, cp.low, cp.high + 1);
    });

    test("eager restore does the same", async () => {
      test.setTimeout(180_000);
      const { mark, ahead, screen } = await restoreFromAhead(cp, "eager");
      screenIsTheCheckpoints(screen, cp, ahead);
      await counterWentBack(page, mark, cp.low, cp.high + 1);
    });

    test("Use as reset point: Reset returns to it and wipes the session", async () => {
      test.setTimeout(180_000);
      await useAsResetPoint(page, cp.id, `${kind.what} counting`);
      await countReaches(page, cp.high + 12);
      const mark = await serialLength(page);
      await page.locator("#reset").click();
      // The session's output goes with the reset: the transcript restarts at the reset point.
      await expect.poll(() => serialLength(page), { timeout: 60_000 }).toBeLessThan(mark);
      await counterWentBack(page, 0, cp.low, cp.high + 1);
    });

    test("a reload resumes the newest autosave instead of booting again", async () => {
      test.setTimeout(240_000);
      await reloadResumesAutosave(page, cp.high + 4);
    });
  });
}

test.describe("a floppy and a hard disk at once", () => {
  onePagePerDescribe();

  /** Restores `id` if given, reboots at once, and returns what the counter read from both drives at boot. */
  async function rebootAndRead(id?: string): Promise<{ boots: number; resumedAt: number }> {
    const printed = await page.evaluate(async (cp) => {
      if (cp) await window.snap86.restore(cp);
      const lines = window.snap86.waitForSerial(/hard disk boots \d+\r?\nresumed at \d+\r?\n/, { timeoutMs: 90_000 });
      await window.snap86.reboot();
      return lines;
    }, id);
    const found = /hard disk boots (\d+)\r?\nresumed at (\d+)/.exec(printed)!;
    return { boots: Number(found[1]), resumedAt: Number(found[2]) };
  }

  test("checkpoint, the hard disk written by a reboot, restore: both drives are back", async () => {
    test.setTimeout(240_000);
    await openApp(page);
    await page.evaluate((d) => window.snap86.boot({ drives: d }), [{ url: imageUrl("counter-floppy.img") }, { url: imageUrl("counter-disk.img") }]);
    // Booted from the floppy: it counts its boots on the hard disk, and saves each count on the floppy.
    const firstBoot = await page.evaluate(() => window.snap86.waitForSerial(/hard disk boots \d+/, { fromStart: true, timeoutMs: 90_000 }));
    const boots = Number(/\d+/.exec(firstBoot)![0]);
    await countReaches(page, 3);
    const cp = await checkpointBetweenCounts(page, "two drives");
    await countReaches(page, cp.high + 12);
    // A reboot writes the hard disk (boot count) and reads the floppy's newest count.
    const written = await rebootAndRead();
    expect(written.boots).toBe(boots + 1);
    expect(written.resumedAt).toBeGreaterThanOrEqual(cp.high + 12);
    await countReaches(page, written.resumedAt + 2);
    // Restored, then rebooted at once: the hard disk's boot count is the checkpoint's again (the
    // counting loop never writes it, so this holds however fast the reboot comes), and the floppy's
    // count is the checkpoint's plus the few the restored guest saved before the reboot.
    const back = await rebootAndRead(cp.id);
    expect(back.boots).toBe(boots + 1);
    expect(back.resumedAt).toBeGreaterThanOrEqual(cp.low);
    expect(back.resumedAt).toBeLessThan(cp.high + 8);
  });
});

test.describe("a guest with PAE paging (pae-floppy.img)", () => {
  onePagePerDescribe();
  let cp: CountedCheckpoint;

  /** After a restore: the program runs on from the checkpoint with, for every count, the checksum the first run printed. */
  async function runsOnWithTheSameSums(mark: number, from: CountedCheckpoint, firstRun: Map<number, { sum: string; status: string }>): Promise<void> {
    await counterWentBack(page, mark, from.low, from.high + 1);
    // Lines of the old run may still arrive after the mark, but with counts past high + 12: these are the restored run's.
    await expect.poll(async () => [...(await paeSums(page, mark)).keys()].filter((n) => n <= from.high + 4).length, { timeout: 60_000 }).toBeGreaterThanOrEqual(4);
    const after = await paeSums(page, mark);
    let compared = 0;
    for (const [count, line] of after) {
      expect(line.status, `count ${count}`).toBe("ok");
      const first = firstRun.get(count);
      if (!first) continue;
      expect(line.sum, `count ${count}'s checksum`).toBe(first.sum);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(3);
  }

  test("boots by URL and runs with CR0.PG and CR4.PAE set", async () => {
    test.setTimeout(180_000);
    await openApp(page);
    await bootByUrl(page, "pae-floppy.img");
    await bannerAfter(page, 0, "snap86 pae counter on drive 00");
    await countReaches(page, 3);
    expect(await page.evaluate(() => window.snap86.cpuMode())).toEqual({ paging: true, pae: true });
    await expect.poll(() => page.evaluate(() => window.snap86.screenText())).toMatch(/count \d+ sum [0-9a-f]{8} ok/);
    expect([...(await paeSums(page)).values()].every((l) => l.status === "ok")).toBe(true);
    cp = await checkpointBetweenCounts(page, "pae");
  });

  for (const mode of ["lazy", "eager"] as const) {
    test(`${mode} restore: counter, checksum and screen back, the program runs on correctly`, async () => {
      test.setTimeout(180_000);
      await countReaches(page, cp.high + 12);
      const firstRun = await paeSums(page, 0);
      const { mark, ahead, screen } = await restoreFromAhead(cp, mode);
      screenIsTheCheckpoints(screen, cp, ahead);
      await runsOnWithTheSameSums(mark, cp, firstRun);
      expect(await page.evaluate(() => window.snap86.cpuMode())).toEqual({ paging: true, pae: true });
    });
  }

  test("dirty pages under PAE: a second checkpoint after more writes; each restores its own RAM", async () => {
    test.setTimeout(240_000);
    // The first run's sums, all of them: every restore below replays counts it printed.
    await countReaches(page, cp.high + 3);
    // Each count rewrites a quarter of the work area: a few counts leave some quarters as they were at the first checkpoint.
    const second = await checkpointBetweenCounts(page, "pae later");
    await countReaches(page, second.high + 12);
    const sums = await paeSums(page, 0);
    for (const target of [cp, second, cp]) {
      const mark = await serialLength(page);
      await page.evaluate((id) => window.snap86.restore(id), target.id);
      await runsOnWithTheSameSums(mark, target, sums);
    }
  });
});
