import { clickAndAwaitFreshShell, expect, openApp, startVm, test, vmOf } from "../fixtures/snap86";
import { countRecords, findInIndexedDb } from "../support/idb";

const bootToShell = (page: import("@playwright/test").Page, query = "autoboot=0", disk?: "secure") =>
  openApp(page, query).then(() =>
    page.evaluate((disk) => window.snap86.boot(disk ? { disk } : {}).then(() => window.snap86.waitForShell({ timeoutMs: 150_000 })), disk),
  );

test("disk writes survive a reload; wipe removes them everywhere and keeps the base intact", async ({ page }) => {
  // Three cold boots (first, after the reload, after the wipe): room for a machine twice as slow.
  test.setTimeout(420_000);
  const vm = vmOf(page);
  await bootToShell(page);
  const busybox = await vm.run("md5sum /bin/busybox");
  const secret = `s3cret-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  await vm.run(`echo ${secret} > /root/secret.txt; sync`);
  await page.evaluate(() => window.snap86.flushDisk());
  const info = await page.evaluate(() => window.snap86.diskInfo());
  expect(info?.mode).toBe("persistent");
  expect(info?.overlayBlocks).toBeGreaterThan(0);
  expect(info!.baseFetchedBytes).toBeLessThan(info!.imageBytes / 4);
  await expect(page.locator("#disk-overlay")).toContainText("blocks");
  await expect(page.locator("#disk-persist")).not.toHaveText("–");

  await page.reload();
  await bootToShell(page);
  expect(await vm.run("cat /root/secret.txt")).toBe(secret);
  // The second boot reads the base from the host cache, not the network.
  const again = await page.evaluate(() => window.snap86.diskInfo());
  expect(again!.baseFetchedBytes).toBeLessThan(info!.baseFetchedBytes);

  await clickAndAwaitFreshShell(page, "#disk-wipe");
  expect(await vm.run("cat /root/secret.txt 2>&1")).toContain("No such file");
  expect(await vm.run("md5sum /bin/busybox")).toBe(busybox);
  // Blocks of the dropped overlay are deleted in the background: wait for it.
  await expect.poll(() => findInIndexedDb(page, secret), { timeout: 30_000 }).toEqual([]);
});

test("a secure session writes no overlay blocks to IndexedDB", async ({ page }) => {
  const vm = vmOf(page);
  await openApp(page);
  const before = await countRecords(page, "snap86-disk", "blocks");
  await bootToShell(page, "autoboot=0", "secure");
  const secret = `secure-${Date.now()}`;
  await vm.run(`dd if=/dev/urandom of=/root/noise bs=64k count=32 2>/dev/null; echo ${secret} > /root/s.txt; sync`);
  expect(await vm.run("cat /root/s.txt")).toBe(secret);
  await page.evaluate(() => window.snap86.flushDisk());
  const info = await page.evaluate(() => window.snap86.diskInfo());
  expect(info?.mode).toBe("secure");
  expect(info!.overlayBytes).toBeGreaterThan(2 * 1024 * 1024);
  expect(await countRecords(page, "snap86-disk", "blocks")).toBe(before);
  expect(await findInIndexedDb(page, secret)).toEqual([]);
  await expect(page.locator("#disk-mode")).toContainText("secure");
});

test("a second tab on the same disk gets a temporary copy and says so", async ({ page, context }) => {
  // How the first tab started does not matter here: from the published state, not a BIOS boot.
  await startVm(page);
  const second = await context.newPage();
  await bootToShell(second);
  await expect(second.locator("#notice")).toContainText("open in another tab");
  const info = await second.evaluate(() => window.snap86.diskInfo());
  expect(info?.lockedElsewhere).toBe(true);
  // The first tab keeps its writable disk.
  expect((await page.evaluate(() => window.snap86.diskInfo()))?.lockedElsewhere).toBe(false);
  await second.close();
});
