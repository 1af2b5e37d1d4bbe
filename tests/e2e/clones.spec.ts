import type { Browser, Page } from "@playwright/test";
import { expect, startVm, test, vmOf, type Vm } from "../fixtures/snap86";

// Issue 16 part 4: every restore of one state is a clone, and clones must not share random
// bytes. After each restore (and reset, and share open) the guest kernel's CRNG gets host entropy
// before the guest runs on (src/v86/guest-rng.ts, docs/clones.md).
const READ = "head -c 16 /dev/urandom | od -An -tx1";
const random = async (vm: Vm): Promise<string> => (await vm.run(READ)).replace(/\s+/g, "");

async function restoreAndRead(vm: Vm, id: string): Promise<string> {
  await vm.page.evaluate((cid) => window.snap86.restore(cid), id);
  return random(vm);
}

async function openLinkFresh(browser: Browser, link: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link);
  await expect(page.locator("#share-status")).toHaveAttribute("data-state", "opened", { timeout: 150_000 });
  await page.evaluate(() => window.snap86.waitForShell({ timeoutMs: 60_000 }));
  return { page, close: () => context.close() };
}

test("10 restores of one checkpoint, resets and share opens each read different /dev/urandom bytes", async ({ browser }) => {
  test.setTimeout(600_000);
  const a = await (await browser.newContext()).newPage();
  await startVm(a, "", { golden: true });
  const vmA = vmOf(a);
  const { id } = await a.evaluate(() => window.snap86.checkpoint());

  // The built-in guest: 10 restores of the same checkpoint.
  const restored: string[] = [];
  for (let i = 0; i < 10; i++) restored.push(await restoreAndRead(vmA, id));
  for (const r of restored) expect(r).toMatch(/^[0-9a-f]{32}$/);
  expect(new Set(restored).size, restored.join("\n")).toBe(10);

  // Resets go back to one golden state: each must differ too.
  const reset: string[] = [];
  for (let i = 0; i < 3; i++) {
    await vmA.reset();
    await a.evaluate(() => window.snap86.waitForShell({ timeoutMs: 60_000 }));
    reset.push(await random(vmA));
  }
  expect(new Set([...restored, ...reset]).size).toBe(13);

  // An opened share: its open and 9 restores of it in that browser, and an open in another.
  const { link } = await a.evaluate((cid) => window.snap86.share(cid), id);
  const b = await openLinkFresh(browser, link);
  const vmB = vmOf(b.page);
  const shared = [await random(vmB)];
  await expect.poll(async () => (await b.page.evaluate(() => window.snap86.checkpoints())).map((c) => c.id), { timeout: 120_000 }).toContain(id);
  for (let i = 0; i < 9; i++) shared.push(await restoreAndRead(vmB, id));
  const c = await openLinkFresh(browser, link);
  shared.push(await random(vmOf(c.page)));
  for (const r of shared) expect(r).toMatch(/^[0-9a-f]{32}$/);
  expect(new Set([...shared, ...restored]).size, shared.join("\n")).toBe(21);
  await b.close();
  await c.close();
});
