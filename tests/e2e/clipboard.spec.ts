/**
 * Clipboard: paste into the serial terminal and into the VGA screen (buttons, shortcuts and the
 * browser's own paste event), and copy from the terminal. The page may read and write the
 * clipboard here (permissions granted), as after a user allowed it.
 */
import { expect, test, type Vm } from "../fixtures/snap86";

async function allowClipboard(vm: Vm): Promise<void> {
  await vm.page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(vm.page.url()).origin });
}
const setClipboard = (vm: Vm, text: string) => vm.page.evaluate((t) => navigator.clipboard.writeText(t), text);
const readClipboard = (vm: Vm) => vm.page.evaluate(() => navigator.clipboard.readText());

test("Paste sends the clipboard to the serial terminal, and a paste event in the terminal does too", async ({ vm }) => {
  await allowClipboard(vm);
  await setClipboard(vm, "echo pasted-$((5*5))\n");
  await vm.page.locator("#terminal-paste").click();
  await expect(vm.page.locator("#terminal")).toContainText("pasted-25");
  // What Ctrl+V or the context menu do: a paste event on xterm.js's input.
  await vm.page.evaluate(() => {
    const dt = new DataTransfer();
    dt.setData("text/plain", "echo event-$((6+6))\r");
    document.querySelector("#terminal .xterm-helper-textarea")!.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  await expect(vm.page.locator("#terminal")).toContainText("event-12");
});

test("Paste types the clipboard into the VGA screen with Shift where needed; a paste event on the screen too", async ({ vm }) => {
  await allowClipboard(vm);
  await setClipboard(vm, "echo SCREEN-PASTE-$((3+4)) | tr A-Z a-z\n");
  await vm.page.locator("#screen-paste").click();
  await expect.poll(() => vm.screenText()).toMatch(/^screen-paste-7$/m);
  await vm.page.evaluate(() => {
    const dt = new DataTransfer();
    dt.setData("text/plain", "echo from-event-$((9+1))\n");
    document.getElementById("screen")!.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  await expect.poll(() => vm.screenText()).toMatch(/^from-event-10$/m);
});

test("Copy puts the terminal's visible text on the clipboard", async ({ vm }) => {
  await allowClipboard(vm);
  await vm.page.evaluate(() => window.snap86.type("echo copy-$((6*7))\n"));
  await expect(vm.page.locator("#terminal")).toContainText("copy-42");
  await vm.page.locator("#terminal-copy").click();
  await expect(vm.page.locator("#notice")).toContainText("Copied");
  await expect.poll(() => readClipboard(vm)).toMatch(/^copy-42$/m);
});
