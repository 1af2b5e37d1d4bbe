import { expect, test, vmOf } from "../fixtures/snap86";
import { findInIndexedDb } from "../support/idb";

test("reset returns to the exact golden state: files, shell state and memory of the session are gone", async ({ vm }) => {
  const busybox = await vm.run("md5sum /bin/busybox");
  await vm.run("export LEFTOVER=1; mkdir -p /root/work && cd /root/work && echo junk > junk.txt && sync");
  // A switch to the standby or the golden state put back in place, never a boot (its speed is bench:reboot's).
  const outcome = await vm.reset();
  expect(outcome.usedStandby || outcome.pagesCopied !== undefined).toBe(true);
  expect(await vm.run("echo \"[$LEFTOVER]\"; pwd; ls /root/work 2>&1")).toBe("[]\n/root\nls: /root/work: No such file or directory");
  expect(await vm.run("md5sum /bin/busybox")).toBe(busybox);
  await expect(vm.page.locator("#status-state")).toHaveText("running");
});

test("after a reset a secret of the session is nowhere: not in guest RAM, IndexedDB or the terminal", async ({ vm }) => {
  const secret = `wipe-me-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  await vm.run(`echo ${secret} > /root/secret; echo ${secret} > /tmp/secret; export S=${secret}; sync`);
  // run() answers on the hidden automation line: type the secret where the user sees it too.
  await vm.page.evaluate((s) => window.snap86.type(`echo ${s}\n`), secret);
  await vm.page.evaluate(() => window.snap86.flushDisk());
  expect(await vm.page.evaluate((s) => window.snap86.ramContains(s), secret)).toBe(true);
  await expect(vm.page.locator("#terminal")).toContainText(secret);
  await vm.reset();
  expect(await vm.page.evaluate((s) => window.snap86.ramContains(s), secret)).toBe(false);
  expect(await vm.page.evaluate(() => window.snap86.serialText())).not.toContain(secret);
  await expect(vm.page.locator("#terminal")).not.toContainText(secret);
  // reset() resolves only once the old overlay's blocks are deleted: no waiting here.
  expect(await findInIndexedDb(vm.page, secret)).toEqual([]);
});

test("standby: 20 resets in a row each switch to a ready machine that answers", async ({ vm }) => {
  test.setTimeout(600_000);
  await vm.page.evaluate(() => window.snap86.setStandby(true));
  let switched = 0;
  for (let i = 0; i < 20; i++) {
    await vm.run(`echo round-${i} > /root/round`);
    expect(await vm.page.evaluate(() => window.snap86.waitForStandby({ timeoutMs: 120_000 }))).toBe("ready");
    const outcome = await vm.reset();
    if (outcome.usedStandby) switched++;
    expect(await vm.run("true; echo ok; ls /root/round 2>&1 | grep -c 'No such'")).toBe("ok\n1");
  }
  expect(switched).toBe(20);
  await expect(vm.page.locator("#standby-status")).not.toHaveText("failed");
  await vm.page.evaluate(() => window.snap86.setStandby(false));
});

test("reset while a checkpoint is being written corrupts nothing", async ({ vm }) => {
  await vm.run("export KEPT=yes; dd if=/dev/urandom of=/tmp/noise bs=1M count=8 2>/dev/null");
  const [cp] = await vm.page.evaluate(() => Promise.all([window.snap86.checkpoint({ label: "during reset" }), window.snap86.reset()]));
  expect(await vm.run("echo \"[$KEPT]\"")).toBe("[]");
  const listed = (await vm.page.evaluate(() => window.snap86.checkpoints())).find((c) => c.id === cp.id);
  expect(listed?.label).toBe("during reset");
  await vm.page.evaluate((id) => window.snap86.restore(id), cp.id);
  expect(await vm.run("echo $KEPT; ls -la /tmp/noise | awk '{print $5}'")).toBe("yes\n8388608");
  await vm.reset();
  expect(await vm.run("echo \"[$KEPT]\"")).toBe("[]");
});

test("a reload starts from the golden state without booting", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { bootVm } = await import("../fixtures/snap86");
  // Session saves off from the start (they run every second): nothing for the reload to resume.
  const vm = await bootVm(page, "autoboot=0&autosave=0");
  await page.reload();
  await page.waitForFunction(() => typeof window.snap86 === "object");
  // No autosave: the page boots fresh, then its golden exists already, so reset is instant.
  const bootStarted = Date.now();
  await page.evaluate(() => window.snap86.waitForShell({ timeoutMs: 150_000 }));
  const bootMs = Date.now() - bootStarted;
  const golden = await page.evaluate(() => window.snap86.ensureGolden());
  expect(golden.golden).toBe(true);
  // A reset that booted would take as long as that boot; from the golden state it takes a small
  // part of it (both slow down alike on a loaded machine, so they are compared, not timed).
  const reset = await vmOf(page).reset();
  expect(reset.resetMs).toBeLessThan(bootMs / 2);
  expect(await vm.run("echo hello")).toBe("hello");
  await context.close();
});
