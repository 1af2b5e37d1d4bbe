/**
 * Continuous session save (issue 14 part 1): the running session is saved about every second,
 * each save replacing the last, so a reload or a crashed tab finds what the guest wrote and synced
 * a second or so before, RAM and disk of one instant. The backing chain and the list stay flat.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Page } from "@playwright/test";
import { testLaunchOptions } from "../../scripts/lib/chromium.mjs";
import { bootVm, expect, test, vmOf } from "../fixtures/snap86";

/** Resolves once a session save paused the guest after `since` (epoch ms) and is stored. */
async function savedAfter(page: Page, since: number): Promise<void> {
  await expect.poll(async () => (await page.evaluate(() => window.snap86.checkpoints())).some((c) => c.autosave && c.created > since), { timeout: 60_000 }).toBe(true);
}

async function resumed(page: Page): Promise<void> {
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await expect(page.locator("#notice")).toContainText("Resumed your session");
  await page.evaluate(() => window.snap86.waitForShell({ timeoutMs: 60_000 }));
}

test("a reload resumes the session of a second before: files synced and shell state, without an explicit save", async ({ browser }) => {
  test.setTimeout(300_000);
  const context = await browser.newContext();
  const page = await context.newPage();
  const vm = await bootVm(page, "");
  const depthBefore = (await page.evaluate(() => window.snap86.diskInfo()))!.chainDepth;
  await vm.run("export STAGE=one; echo first > /root/continuous.txt; sync");
  await savedAfter(page, Date.now());
  // Many saves later the chain is as deep as before: each save folded the one it replaced.
  await vm.run("for i in $(seq 20); do echo $i >> /root/continuous.txt; sync; sleep 0.2; done");
  await savedAfter(page, Date.now());
  // A save lands, then the one it replaces goes and its layer is folded: polled, because a listing
  // can fall between the two steps of a save (two saves listed, or one layer deeper, for a moment).
  await expect.poll(async () => (await page.evaluate(() => window.snap86.diskInfo()))!.chainDepth).toBeLessThanOrEqual(depthBefore + 1);
  await expect.poll(async () => (await page.evaluate(() => window.snap86.checkpoints())).filter((c) => c.autosave).length).toBe(1);

  await vm.run("export STAGE=two; echo second >> /root/continuous.txt; sync");
  await savedAfter(page, Date.now());
  await page.reload();
  await resumed(page);
  expect(await vm.run("echo $STAGE; head -1 /root/continuous.txt; tail -1 /root/continuous.txt")).toBe("two\nfirst\nsecond");
  // The disk agrees with the RAM it was saved with: the file reads the same from the disk itself.
  expect(await vm.run("sync; echo 3 > /proc/sys/vm/drop_caches; tail -1 /root/continuous.txt; wc -l < /root/continuous.txt")).toBe("second\n22");
  await context.close();
});

test("a crashed browser loses only the last second: the next start resumes the newest save", async ({ baseURL }) => {
  test.setTimeout(300_000);
  // A profile on disk, so a second browser opens the IndexedDB the first one left behind.
  const profile = mkdtempSync(join(tmpdir(), "snap86-crash-"));
  const launch = () => chromium.launchPersistentContext(profile, { ...testLaunchOptions(), baseURL });
  try {
    let context = await launch();
    const page = context.pages()[0] ?? (await context.newPage());
    const vm = await bootVm(page, "");
    await vm.run("export CRASH=survived; echo before-crash > /root/crash.txt; sync");
    await savedAfter(page, Date.now());
    // No pagehide, no last save: the browser is killed (its processes are the ones with this profile).
    execFileSync("pkill", ["-KILL", "-f", "--", `user-data-dir=${profile}`]);
    await context.close().catch(() => undefined);
    context = await launch();
    const next = context.pages()[0] ?? (await context.newPage());
    await next.goto("/");
    await resumed(next);
    expect(await vmOf(next).run("echo $CRASH; cat /root/crash.txt")).toBe("survived\nbefore-crash");
    await context.close();
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
});

test("session saves do not show as checkpoint progress", async ({ vm }) => {
  const page = vm.page;
  const status = page.locator("#checkpoint-status .text");
  const before = await status.textContent();
  const t0 = Date.now();
  await savedAfter(page, t0);
  await savedAfter(page, Date.now());
  expect(await status.textContent()).toBe(before);
});
