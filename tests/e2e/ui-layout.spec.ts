/**
 * Layouts: no horizontal scroll on a 390 px phone (with a field that types into the guest), and
 * the screen beside the serial console on wide windows. Saves the same pictures as
 * `npm run screenshot` (scripts/lib/screenshots.mjs) under test-results/layouts/.
 */
import { expect, test, startVm } from "../fixtures/snap86";
import { horizontalOverflow } from "../../scripts/lib/ui-audit.mjs";
import { prepareScene, shoot, viewport } from "../../scripts/lib/screenshots.mjs";

const OUT = "test-results/layouts";

test("a 390×844 touch phone: no horizontal scroll, and a field with Ctrl/Esc/arrow keys types into the guest", async ({ browser }) => {
  const phone = viewport("phone");
  const context = await browser.newContext({ viewport: { width: phone.width, height: phone.height }, hasTouch: true, isMobile: true });
  const page = context.pages()[0] ?? (await context.newPage());
  const vm = await startVm(page);
  await prepareScene(page);
  // A branch a few checkpoints deep: its rows are indented and carry four actions (CI saw an
  // autosave row at the third level push the page 18 px wider than the phone).
  for (const label of ["deeper", "deeper still"]) await page.evaluate((l) => window.snap86.checkpoint({ label: l }), label);
  await expect(page.locator("#checkpoint-list li.checkpoint", { hasText: "deeper still" })).toBeVisible();
  expect(await horizontalOverflow(page)).toBe(0);
  await shoot(page, phone, `${OUT}/phone.png`);
  expect(await horizontalOverflow(page)).toBe(0);

  const field = page.locator("#touch-input");
  await expect(field).toBeVisible();
  for (const key of ["Control", "Escape", "Tab", "ArrowLeft", "ArrowUp", "ArrowDown", "ArrowRight"]) {
    await expect(page.locator(`#touch-keys button[data-key="${key}"]`)).toBeVisible();
  }
  // To the serial console: text, then Ctrl+U (erase the line) from the Ctrl button, then Enter.
  await page.locator("#touch-target").selectOption("serial");
  await field.fill("echo wrong");
  await page.locator('#touch-keys button[data-key="Control"]').tap();
  await field.fill("u");
  await field.fill("echo touch-$((3*7))");
  await page.locator('#touch-keys button[data-key="Enter"]').tap();
  await expect(page.locator("#terminal")).toContainText("touch-21");
  await expect(page.locator("#terminal")).not.toContainText("wrong");
  // To the screen: characters become key presses of a US keyboard (Shift included).
  await page.locator("#touch-target").selectOption("screen");
  await field.fill("echo SCREEN-$((2+2))");
  await page.locator('#touch-keys button[data-key="Enter"]').tap();
  await expect.poll(() => vm.screenText()).toMatch(/^SCREEN-4$/m);
  // Checkpoint labels are not cut short (the issue saw "gold…").
  const cut = await page.locator("#checkpoint-list li.checkpoint button.label").evaluateAll((labels) =>
    labels.filter((b) => b.scrollWidth > b.clientWidth).map((b) => b.textContent),
  );
  expect(cut).toEqual([]);
  await context.close();
});

test("1366×768 and 1920×1080: the screen and the serial console side by side, no horizontal scroll", async ({ vm }) => {
  await prepareScene(vm.page);
  for (const name of ["laptop", "desktop"]) {
    await shoot(vm.page, viewport(name), `${OUT}/${name}.png`);
    expect(await horizontalOverflow(vm.page), name).toBe(0);
    const screen = await vm.page.locator("section.pane.screen").boundingBox();
    const terminal = await vm.page.locator("section.pane.terminal").boundingBox();
    expect(screen && terminal, name).toBeTruthy();
    expect(Math.abs(screen!.y - terminal!.y), `${name}: same row`).toBeLessThan(2);
    expect(terminal!.x, `${name}: terminal right of the screen`).toBeGreaterThan(screen!.x + screen!.width - 1);
  }
  await vm.page.setViewportSize({ width: 1440, height: 900 });
});
