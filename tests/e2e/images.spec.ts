/**
 * Real boot media a user might bring, built by the project from Debian packages and nasm
 * (scripts/lib/test-images.mjs), each booted as a user would: its URL typed in the Image URL field
 * (served from another origin with CORS and Range), and the file chosen with Open file (mini.iso by
 * URL only: see its case). Each test waits for what only that program shows (its screen or serial
 * line), never for a fixed time.
 */
import type { Page } from "@playwright/test";
import { expect, openApp, test } from "../fixtures/snap86";
import { imageUrl, testImage } from "../support/test-images";
import { explained } from "../support/page-state";
import { DRIVE_NAMES } from "../../src/protocol/media-kind";

/** Boot timeouts: the installer's kernel and 30 MB initrd take a minute on a quiet machine. */
const SLOW = 400_000;

interface Case {
  name: string;
  /** Waits until the guest shows it booted; returns nothing, fails on timeout. */
  booted(page: Page): Promise<void>;
  /** What the boot by URL must reach after that (the slow part of an image, checked once). */
  thenByUrl?(page: Page): Promise<void>;
  /** Booted by URL only: its file path is what other cases already prove (see the case). */
  byUrlOnly?: boolean;
  memoryMiB?: number;
}

const screenShows = (text: string) => async (page: Page) => {
  await expect.poll(() => page.evaluate(() => window.snap86.screenText()), { timeout: 120_000 }).toContain(text);
};
const serialShows = (text: string, timeoutMs: number) => async (page: Page) => {
  await page.evaluate(([t, ms]) => window.snap86.waitForSerial(t, { fromStart: true, timeoutMs: ms }), [text, timeoutMs] as const);
};

const CASES: Case[] = [
  {
    name: "counter-floppy.img",
    // The counter runs: its third line is on COM1 and the screen shows the boot drive (00: floppy).
    booted: async (page) => {
      await serialShows("count 2", 60_000)(page);
      await screenShows("snap86 counter on drive 00")(page);
    },
  },
  {
    name: "counter-disk.img",
    booted: async (page) => {
      await serialShows("count 2", 60_000)(page);
      await screenShows("snap86 counter on drive 80")(page);
    },
  },
  {
    name: "counter-cd.iso",
    booted: async (page) => {
      await serialShows("count 2", 60_000)(page);
      await screenShows("snap86 counter on drive e0")(page);
    },
  },
  {
    name: "pae-floppy.img",
    // Its counter runs with PAE paging on, and its checksum over 4 MiB came out right ("ok").
    booted: async (page) => {
      await serialShows("count 2 sum", 60_000)(page);
      await screenShows("snap86 pae counter on drive 00")(page);
      await screenShows(" ok")(page);
    },
  },
  { name: "grub-floppy.img", booted: screenShows("GNU GRUB") },
  { name: "grub-cd.iso", booted: screenShows("GNU GRUB") },
  {
    name: "mini.iso",
    memoryMiB: 256,
    // ISOLINUX loaded the kernel and the 30 MB initrd from the CD: the kernel prints its banner.
    booted: serialShows("Linux version", 300_000),
    // Booted by URL it goes on to the installer's newt front end on the serial console: its
    // userland runs. Not booted as a file too: a file is read by slices whatever its size (the
    // other images here, and the 4 GiB ISO of drives.spec.ts), and this boot is the suite's
    // longest after the Debian guest's.
    thenByUrl: serialShows("<Tab> moves", 380_000),
    byUrlOnly: true,
  },
];

async function chooseMemory(page: Page, mib?: number): Promise<void> {
  if (mib) await page.locator("#memory").selectOption(String(mib));
}

for (const c of CASES) {
  const image = testImage(c.name);
  const drive = DRIVE_NAMES[image.kind];

  test(`${c.name} boots by URL from another origin`, async ({ page }) => {
    test.setTimeout(SLOW);
    await openApp(page);
    await chooseMemory(page, c.memoryMiB);
    await page.locator("#image-url").fill(imageUrl(c.name));
    // Its first bytes are read (one Range request) and the drive they say is shown before it boots.
    await expect(page.locator("#image-detected")).toContainText(`Auto: ${drive} (`);
    await page.locator("#image-boot").click();
    await expect(page.locator("#notice")).toContainText(`${c.name} boots as a ${drive}`);
    await explained(page, () => c.booted(page));
    await expect(page.locator("#status-state")).toHaveText("running");
    await c.thenByUrl?.(page);
    await page.evaluate(() => window.snap86.powerOff());
  });

  if (!c.byUrlOnly) {
    test(`${c.name} boots as a file`, async ({ page }) => {
      test.setTimeout(SLOW);
      await openApp(page);
      await chooseMemory(page, c.memoryMiB);
      await page.locator("#image-file").setInputFiles(image.path);
      // The drive its content says is shown before it boots.
      await expect(page.locator("#image-detected")).toContainText(`Auto: ${drive}`);
      await page.locator("#image-boot").click();
      await explained(page, () => c.booted(page));
      await expect(page.locator("#status-state")).toHaveText("running");
      await page.evaluate(() => window.snap86.powerOff());
    });
  }
}

test("memtest86+, which v86 cannot run, ends in a clear error instead of a machine that seems to run", async ({ page }) => {
  // v86 0.5.462's wasm faults ("memory access out of bounds") once memtest86+ 6.10 starts its tests.
  await openApp(page);
  await page.locator("#image-url").fill(imageUrl("memtest.iso"));
  await page.locator("#image-boot").click();
  await expect(page.locator("#status-state")).toHaveText("error", { timeout: 120_000 });
  await expect(page.locator("#error")).toContainText("v86 cannot run this machine any further");
  await expect(page.locator("#error")).toContainText("Nothing saved was lost");
});
