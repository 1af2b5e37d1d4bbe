import { expect, test } from "../fixtures/snap86";

/** Settles a call made in the page to the error code it rejected with, or "resolved". */
declare global {
  interface Window {
    codeOf(p: Promise<unknown>): Promise<string>;
    abortedSignal(): AbortSignal;
  }
}

test.beforeEach(async ({ vm }) => {
  await vm.page.evaluate(() => {
    window.codeOf = (p) => p.then(
      () => "resolved",
      (e: { code?: string }) => e.code ?? "no code",
    );
    window.abortedSignal = () => {
      const c = new AbortController();
      c.abort();
      return c.signal;
    };
  });
});

test("an error keeps its code from the checkpoint-I/O worker through the emulator worker to the page", async ({ vm }) => {
  const missing = await vm.page.evaluate(() =>
    window.snap86.restore("no-such-checkpoint").then(
      () => null,
      (e: { code: string; name: string; message: string }) => ({ code: e.code, name: e.name, message: e.message }),
    ),
  );
  expect(missing).toEqual({ code: "checkpoint-missing", name: "Snap86Error", message: expect.stringContaining("no-such-checkpoint") });
});

test("restore, export, import and share cancelled before they start change nothing", async ({ vm }) => {
  test.setTimeout(240_000);
  await vm.run("export KEEP=still-here");
  const { id } = await vm.page.evaluate(() => window.snap86.checkpoint({ label: "to cancel" }));
  await vm.run("export KEEP=after-the-checkpoint");
  const outcome = await vm.page.evaluate(async (id) => {
    const s = window.snap86;
    const file = await s.exportCheckpoint(id);
    const restore = await window.codeOf(s.restore(id, undefined, window.abortedSignal()));
    const exportFile = await window.codeOf(s.exportCheckpoint(id, window.abortedSignal()));
    const share = await window.codeOf(s.share(id, window.abortedSignal()));
    await s.deleteCheckpoint(id);
    const importFile = await window.codeOf(s.importCheckpoint(file, window.abortedSignal()));
    const listedAfterCancel = (await s.checkpoints()).some((c) => c.id === id);
    // Nothing was left half-done: the same file imports fine afterwards.
    const imported = await s.importCheckpoint(file);
    return { restore, exportFile, share, importFile, listedAfterCancel, importedId: imported.id };
  }, id);
  expect(outcome).toEqual({ restore: "aborted", exportFile: "aborted", share: "aborted", importFile: "aborted", listedAfterCancel: false, importedId: id });
  // The cancelled restore left the running session as it was.
  expect(await vm.run("echo $KEEP")).toBe("after-the-checkpoint");
});

test("Cancel in the page stops a share upload; nothing is lost and sharing again works", async ({ vm }) => {
  test.setTimeout(300_000);
  const page = vm.page;
  // Random bytes in the guest's page cache make an upload long enough to cancel half-way: 24
  // copies of 1 MiB from /dev/urandom, each shifted by the line before it, so no two RAM chunks
  // are alike (the emulated kernel makes random bytes slowly: 24 MB of them took most of a minute).
  await vm.run("head -c 1048576 /dev/urandom > /tmp/r && for i in $(seq 24); do echo $i; cat /tmp/r; done > /tmp/noise && rm /tmp/r && echo ok", 120_000);
  const { id } = await page.evaluate(() => window.snap86.checkpoint({ label: "big" }));
  await page.locator("#share-button").click();
  await page.locator("#share-cancel").click();
  const status = page.locator("#share-status");
  await expect(status).toHaveAttribute("data-state", "cancelled");
  await expect(status).toContainText("cancelled");
  await expect(page.locator("#error")).toBeHidden();
  await expect(page.locator("#share-cancel")).toBeHidden();
  // The checkpoint is intact and shares completely on a second try.
  const shared = await page.evaluate((id) => window.snap86.share(id), id);
  expect(shared.link).toContain("#share=");
  expect((await page.evaluate(() => window.snap86.checkpoints())).some((c) => c.id === id)).toBe(true);
});
