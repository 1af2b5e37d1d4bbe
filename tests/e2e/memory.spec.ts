// A 1 GiB guest in the browser: checkpoints read only the chunks written since the last one
// (dirty-page tracking, copy-on-write while the guest runs), restores bring the state back,
// and a reset copies back only the pages written since the golden state.
import { expect, test } from "@playwright/test";
import { openApp, vmOf } from "../fixtures/snap86";

const GIB = 1024;
const CHUNK = 32 * 1024;

test("a 1 GiB guest checkpoints what it wrote, restores it, and resets by the pages it wrote", async ({ browser }) => {
  test.setTimeout(600_000);
  const context = await browser.newContext();
  const page = await context.newPage();
  await openApp(page, `autoboot=0&memory=${GIB}`);
  // The memory choice offers up to v86's ceiling (just under 2 GiB), and the page boots what it shows.
  await expect(page.locator("#memory option[value='2047']")).toHaveText("2047 MiB");
  await expect(page.locator("#memory")).toHaveValue(String(GIB));
  await page.evaluate(async (memoryMiB) => {
    await window.snap86.setAutosaveInterval(0);
    await window.snap86.setStandby(false);
    await window.snap86.boot({ memoryMiB });
    await window.snap86.waitForShell({ timeoutMs: 300_000 });
    await window.snap86.ensureGolden();
  }, GIB);
  const vm = vmOf(page);
  const memTotalKiB = Number(await vm.run("awk '/MemTotal/ {print $2}' /proc/meminfo"));
  expect(memTotalKiB).toBeGreaterThan(900 * 1024);

  await vm.run("dd if=/dev/urandom of=/root/data bs=1M count=8 2>/dev/null; sync; md5sum /root/data > /root/data.md5");
  const sum = await vm.run("cat /root/data.md5");
  const cp = await page.evaluate(() => window.snap86.checkpoint({ label: "8 MiB written" }));
  const allChunks = (GIB << 20) / CHUNK;
  // Only what changed since the golden state is read: 8 MiB of file plus the kernel's own writes.
  expect(cp.chunksWritten).toBeGreaterThan(256);
  expect(cp.chunksWritten).toBeLessThan(allChunks / 4);
  // The capture held far less than the guest's RAM beside it.
  expect(cp.peakExtraBytes).toBeLessThan(256 << 20);

  await vm.run("rm /root/data /root/data.md5; sync; echo gone > /root/marker");
  await page.evaluate((id) => window.snap86.restore(id), cp.id);
  expect(await vm.run("md5sum /root/data; cat /root/marker 2>&1")).toBe(`${sum}\ncat: can't open '/root/marker': No such file or directory`);

  // Tracking goes on from the restore: the next checkpoint reads only what changed since.
  await vm.run("echo small > /root/small; sync");
  const next = await page.evaluate(() => window.snap86.checkpoint({ label: "small change" }));
  expect(next.chunksWritten).toBeLessThan(cp.chunksWritten);

  const reset = await vm.reset();
  expect(reset.usedStandby).toBe(false);
  expect(reset.pagesCopied).toBeGreaterThan(0);
  expect(reset.pagesCopied).toBeLessThan((GIB << 20) / 4096 / 4);
  expect(await vm.run("ls /root/data /root/small 2>&1 | grep -c 'No such'")).toBe("2");
  await context.close();
});
