import { readFile, writeFile } from "node:fs/promises";
import type { Browser, Page } from "@playwright/test";
import { expect, startVm, test, vmOf } from "../fixtures/snap86";
import { objectFiles, storeDir } from "../support/store-objects";

/** Opens a link in a fresh page of `browser`'s new context (a new profile: empty IndexedDB). */
async function openLinkFresh(browser: Browser, link: string): Promise<{ page: Page; state: string | undefined; close: () => Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link);
  const status = page.locator("#share-status");
  await expect(status).toHaveAttribute("data-state", /opened|failed/, { timeout: 150_000 });
  return { page, state: (await status.getAttribute("data-state")) ?? undefined, close: () => context.close() };
}

test("a share link opens the VM in another browser profile, with its disk and memory", async ({ browser }) => {
  test.setTimeout(420_000);
  expect(storeDir).not.toBe("");
  const a = await (await browser.newContext()).newPage();
  await startVm(a);
  const vmA = vmOf(a);
  const fileSecret = `file-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const varSecret = `var-${Math.random().toString(36).slice(2)}`;
  await vmA.run(`echo ${fileSecret} > /root/shared.txt; sync`);
  await vmA.run(`export SNAP86_SHARED=${varSecret}`);
  await a.evaluate(() => window.snap86.flushDisk());
  const { id } = await a.evaluate(() => window.snap86.checkpoint());

  const before = await objectFiles();
  const shared = await a.evaluate((cid) => window.snap86.share(cid), id);
  expect(shared.link).toMatch(/#share=[0-9a-f]{64}\.[A-Za-z0-9_-]{43}$/);
  expect(shared.uploadedBytes).toBeGreaterThan(0);
  // The walks recorded before the capture became the checkpoint's working set, shipped as a pack.
  expect(shared.packBytes).toBeGreaterThan(0);
  const uploaded = [...(await objectFiles())].filter(([path]) => !before.has(path));
  expect(uploaded.length).toBeGreaterThan(0);

  // Re-sharing the same checkpoint reuses its key: same objects, same link, nothing uploaded.
  const again = await a.evaluate((cid) => window.snap86.share(cid), id);
  expect(again).toMatchObject({ link: shared.link, uploadedBytes: 0, skippedBytes: shared.uploadedBytes });

  // The UI path: the Share button shares the current checkpoint and shows the same link.
  await a.locator("#share-button").click();
  await expect(a.locator("#share-link")).toHaveValue(shared.link);

  // B: a fresh profile opens the link by navigating to it.
  const b = await openLinkFresh(browser, shared.link);
  expect(b.state, (await b.page.locator("#error").textContent()) ?? "").toBe("opened");
  await b.page.evaluate(() => window.snap86.waitForShell({ timeoutMs: 60_000 }));
  const vmB = vmOf(b.page);
  expect(await vmB.run("cat /root/shared.txt")).toBe(fileSecret);
  expect(await vmB.run("echo $SNAP86_SHARED")).toBe(varSecret);
  // RAM arrived lazily; once all of it is stored in B's browser the checkpoint is listed there.
  await expect.poll(async () => (await b.page.evaluate(() => window.snap86.checkpoints())).map((c) => c.id), { timeout: 120_000 }).toContain(id);
  await b.close();

  // The two largest stored objects damaged on the store's disk: the pack (the working set's pages
  // in one object; an opener whose pack fails fetches those pages' chunks instead) and one object
  // the opener must have. A fresh opener refuses the VM as damaged.
  const victims = uploaded.sort((x, y) => y[1] - x[1]).slice(0, 2).map(([path]) => path);
  const originals = await Promise.all(victims.map((v) => readFile(v)));
  await Promise.all(victims.map((v, i) => writeFile(v, originals[i].subarray(0, originals[i].byteLength >> 1))));
  try {
    const c = await openLinkFresh(browser, shared.link);
    // Device state and disk are checked before the guest runs ("failed"); a RAM chunk when the
    // guest or prefetch first needs it, which stops the machine: the same message either way.
    await expect(c.page.locator("#error")).toContainText("failed its integrity check", { timeout: 120_000 });
    if (c.state === "opened") await expect(c.page.locator("#status-state")).not.toHaveText("running");
    expect(await c.page.evaluate(() => window.snap86.checkpoints())).toEqual([]);
    await c.close();
  } finally {
    await Promise.all(victims.map((v, i) => writeFile(v, originals[i])));
  }

  // A link with another key, and a malformed link, each say what is wrong.
  const dot = shared.link.lastIndexOf(".");
  const key = shared.link.slice(dot + 1);
  const wrongKey = `${shared.link.slice(0, dot + 1)}${key[0] === "A" ? "B" : "A"}${key.slice(1)}`;
  const w = await openLinkFresh(browser, wrongKey);
  expect(w.state).toBe("failed");
  await expect(w.page.locator("#error")).toContainText("This link's key does not open this checkpoint");
  await w.close();
  const m = await openLinkFresh(browser, `${shared.link.slice(0, shared.link.indexOf("#"))}#share=not-a-link`);
  expect(m.state).toBe("failed");
  await expect(m.page.locator("#error")).toContainText("This share link is malformed");
  // The page's words for the code, not the worker's message: the code crossed both workers.
  await expect(m.page.locator("#error")).toContainText("copy the whole link");
  await m.close();

  // Deleting the checkpoint in A also forgets its share key (a secret that opens the link) and
  // its working set; the link itself keeps working for whoever has it.
  const recordsFor = (cid: string) =>
    a.evaluate(async (key) => {
      const count = (db: string, store: string) =>
        new Promise<number>((resolve, reject) => {
          const open = indexedDB.open(db);
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const req = open.result.transaction(store).objectStore(store).count(key);
            req.onsuccess = () => (open.result.close(), resolve(req.result));
            req.onerror = () => reject(req.error);
          };
        });
      return { keys: await count("snap86-shares", "keys"), workingSets: await count("snap86-lazy", "workingSets") };
    }, cid);
  expect(await recordsFor(id)).toEqual({ keys: 1, workingSets: 1 });
  await a.evaluate((cid) => window.snap86.deleteCheckpoint(cid), id);
  expect(await recordsFor(id)).toEqual({ keys: 0, workingSets: 0 });
});
