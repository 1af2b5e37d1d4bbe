import { readFileSync } from "node:fs";
import { startVm, expect, openApp, test } from "../fixtures/snap86";
import { testImage } from "../support/test-images";

test("the built-in guest boots to a root shell on serial and screen", async ({ vm }) => {
  expect(await vm.run("uname -m")).toBe("i686");
  expect(await vm.run("cat /proc/cpuinfo | grep -c processor")).toBe("1");
  // The VGA console shows the shell prompt of tty1.
  await expect.poll(() => vm.screenText()).toMatch(/snap86:.*# ?$/m);
  await expect(vm.page.locator("#status-state")).toHaveText("running");
});

test("run() returns exact output and exit status", async ({ vm }) => {
  expect(await vm.run("printf 'a\\nb\\n\\nc'")).toBe("a\nb\n\nc");
  const result = await vm.page.evaluate(() => window.snap86.runWithStatus("ls /nonexistent"));
  expect(result.exitCode).toBe(1);
  expect(result.output).toContain("No such file or directory");
  expect(await vm.run("echo $((6*7))")).toBe("42");
});

test("keys typed on the screen canvas reach the guest's VGA console", async ({ vm }) => {
  const canvas = vm.page.locator("#screen");
  await canvas.click();
  // Playwright types characters without pressing Shift, so stick to unshifted keys.
  await vm.page.keyboard.type("echo typed-on-canvas; echo ok-9");
  await vm.page.keyboard.press("Enter");
  await expect.poll(() => vm.screenText()).toMatch(/^typed-on-canvas$/m);
});

test("the serial terminal forwards typing to the guest", async ({ vm }) => {
  await vm.page.locator("#terminal .xterm-helper-textarea").focus();
  await vm.page.keyboard.type("echo from-xterm-$((2+3))");
  await vm.page.keyboard.press("Enter");
  await expect(vm.page.locator("#terminal")).toContainText("from-xterm-5");
});

test("an image URL that 404s shows a clear error and the API rejects with it", async ({ page }) => {
  await openApp(page);
  const message = await page.evaluate(() =>
    window.snap86.boot({ image: { kind: "cdrom", url: "/no-such-image.iso" } }).then(
      () => "booted",
      (e: Error) => e.message,
    ),
  );
  expect(message).toMatch(/no-such-image\.iso.*404/);
  await expect(page.locator("#error")).toBeVisible();
  await expect(page.locator("#error")).toContainText("404");
  await expect(page.locator("#status-state")).toHaveText("error");
});

test("?image= boots a user's image by URL and reports a bad one in the UI", async ({ page }) => {
  await openApp(page, "image=/missing/disk.img");
  await expect(page.locator("#error")).toContainText("disk.img");
  await expect(page.locator("#error")).toContainText("404");
});

test("a floppy image chosen from disk boots", async ({ page }) => {
  await openApp(page);
  await page.locator("#image-file").setInputFiles({ name: "hello.img", mimeType: "application/octet-stream", buffer: readFileSync(testImage("counter-floppy.img").path) });
  await page.locator("#image-boot").click();
  await expect.poll(() => page.evaluate(() => window.snap86.screenText())).toContain("snap86 counter on drive 00");
  await page.evaluate(() => window.snap86.powerOff());
});

test("an image given by ?image= URL boots", async ({ page }) => {
  // Same origin, served by the page's route (the test image server has its own tests: images.spec.ts).
  await page.route((url) => url.pathname === "/images/hello.img", (route) => route.fulfill({ body: readFileSync(testImage("counter-floppy.img").path) }));
  await openApp(page, "image=/images/hello.img");
  await expect.poll(() => page.evaluate(() => window.snap86.screenText())).toContain("snap86 counter on drive 00");
  await page.evaluate(() => window.snap86.powerOff());
});

test("API calls while the page starts its own machine join that start: one machine, its disk, no other-tab notice", async ({ page }) => {
  test.setTimeout(240_000);
  // The most natural script: open the app (it boots by itself) and wait for the shell at once.
  await page.goto("/");
  await page.waitForFunction(() => typeof window.snap86 === "object");
  const outcome = await page.evaluate(async () => {
    const other = await window.snap86.boot({ memoryMiB: 256 }).then(
      () => "booted",
      (e: { code?: string }) => e.code ?? "no code",
    );
    await Promise.all([window.snap86.boot(), window.snap86.waitForShell({ timeoutMs: 200_000 })]);
    const disk = await window.snap86.diskInfo();
    return { other, mode: disk?.mode, lockedElsewhere: disk?.lockedElsewhere, answer: await window.snap86.run("echo one-machine") };
  });
  expect(outcome).toEqual({ other: "busy", mode: "persistent", lockedElsewhere: false, answer: "one-machine" });
  await expect(page.locator("#notice")).not.toContainText("another tab");
  await expect(page.locator("#status-state")).toHaveText("running");
});

test("choosing a bad image keeps the running machine: a 404, a web page and an empty file each say why", async ({ vm }) => {
  test.setTimeout(120_000);
  const page = vm.page;
  await vm.run("export KEEP=my-session");
  // What the user's terminal shows must survive too (run() goes to the hidden shell: type it).
  const marker = `before-${Date.now()}`;
  await page.evaluate((m) => window.snap86.type(`echo ${m}\n`), marker);
  await expect(page.locator("#terminal")).toContainText(marker);
  const origin = new URL(page.url()).origin;
  for (const [path, says] of [
    ["/missing/nothing.img", "404"],
    ["/", "web page"],
  ] as const) {
    await page.locator("#image-url").fill(`${origin}${path}`);
    await page.locator("#image-boot").click();
    await expect(page.locator("#error")).toContainText(says);
    await expect(page.locator("#status-state")).toHaveText("running");
  }
  await page.locator("#image-url").fill("");
  await page.locator("#image-file").setInputFiles({ name: "empty.img", mimeType: "application/octet-stream", buffer: Buffer.alloc(0) });
  await page.locator("#image-boot").click();
  await expect(page.locator("#error")).toContainText("image file is empty");
  await expect(page.locator("#status-state")).toHaveText("running");
  // The session runs on, untouched: its shell state and its terminal.
  expect(await vm.run("echo $KEEP")).toBe("my-session");
  await expect(page.locator("#terminal")).toContainText(marker);
});

test("a floppy given by URL boots as a floppy whatever its name, and the page says why", async ({ page }) => {
  await page.route((url) => url.pathname === "/images/dos.dsk", (route) => route.fulfill({ body: readFileSync(testImage("counter-floppy.img").path) }));
  await openApp(page, "image=/images/dos.dsk");
  // The counter prints the BIOS boot drive: 00 for a floppy, 80 for a hard disk.
  await expect.poll(() => page.evaluate(() => window.snap86.screenText())).toContain("snap86 counter on drive 00");
  await expect(page.locator("#notice")).toContainText("dos.dsk boots as a floppy (1.44 MB floppy size, boot sector)");
  await page.evaluate(() => window.snap86.powerOff());
});

test("a picked file shows the drive its content says before it boots, and a drive chosen by hand wins", async ({ page }) => {
  await openApp(page);
  await page.locator("#image-file").setInputFiles({ name: "probe.img", mimeType: "application/octet-stream", buffer: readFileSync(testImage("counter-floppy.img").path) });
  await expect(page.locator("#image-detected")).toHaveText("Auto: floppy (1.44 MB floppy size, boot sector)");
  await page.locator("#image-kind").selectOption("hda");
  await page.locator("#image-boot").click();
  await expect.poll(() => page.evaluate(() => window.snap86.screenText())).toContain("snap86 counter on drive 80");
  await page.evaluate(() => window.snap86.powerOff());
});

test("while a user's image runs, Reset, Checkpoint and Share act on that machine, never on the built-in guest", async ({ page }) => {
  test.setTimeout(300_000);
  // The tab ran the built-in guest first: its clean state and checkpoints exist.
  await startVm(page, "", { golden: true });
  await expect(page.locator("#reset")).toBeEnabled();
  await page.locator("#image-file").setInputFiles({ name: "mine.img", mimeType: "application/octet-stream", buffer: readFileSync(testImage("counter-floppy.img").path) });
  await page.locator("#image-boot").click();
  await expect.poll(() => page.evaluate(() => window.snap86.screenText())).toContain("snap86 counter on drive 00");
  // No reset point of its own yet (the built-in guest's clean state is another machine's):
  // disabled with the reason. Share shares this machine, its image included, and asks how.
  await expect(page.locator("#reset")).toBeDisabled();
  await expect(page.locator("#reset")).toHaveAttribute("title", /reset point/);
  await expect(page.locator("#share-button")).toBeEnabled();
  await expect(page.locator("#share-image-by")).toBeVisible();
  await expect(page.locator("#checkpoint-button")).toBeEnabled();
  const outcome = await page.evaluate(async () => {
    const code = (p: Promise<unknown>) => p.then(() => "done", (e: { code?: string }) => e.code ?? "no code");
    const reset = await code(window.snap86.reset());
    const cp = await window.snap86.checkpoint({ label: "counter" });
    const info = (await window.snap86.checkpoints()).find((c) => c.id === cp.id);
    return { reset, machineKey: info?.machineKey };
  });
  expect(outcome.reset).toBe("no-clean-state");
  // The checkpoint is the user's machine's, not the built-in guest's.
  expect(outcome.machineKey).toMatch(/^own:/);
  // Still the user's machine: the built-in guest was not switched in.
  expect(await page.evaluate(() => window.snap86.screenText())).toContain("snap86 counter on drive 00");
  // Back on the built-in guest, its controls come back.
  await page.evaluate(() => window.snap86.boot().then(() => window.snap86.waitForShell({ timeoutMs: 150_000 })));
  await expect(page.locator("#share-button")).toBeEnabled();
  await expect(page.locator("#share-image-by")).toBeHidden();
  await expect(page.locator("#reset")).toBeEnabled({ timeout: 60_000 });
});
