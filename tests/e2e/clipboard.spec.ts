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

test("Paste types the clipboard into the VGA screen with Shift where needed; Ctrl+Shift+V and paste events too", async ({ vm }) => {
  await allowClipboard(vm);
  await setClipboard(vm, "echo SCREEN-PASTE-$((3+4)) | tr A-Z a-z\n");
  await vm.page.locator("#screen-paste").click();
  await expect.poll(() => vm.screenText()).toMatch(/^screen-paste-7$/m);
  await setClipboard(vm, "echo shortcut-$((2*4))\n");
  await vm.page.locator("#screen").focus();
  await vm.page.keyboard.press("Control+Shift+V");
  await expect.poll(() => vm.screenText()).toMatch(/^shortcut-8$/m);
  await vm.page.evaluate(() => {
    const dt = new DataTransfer();
    dt.setData("text/plain", "echo from-event-$((9+1))\n");
    document.getElementById("screen")!.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  await expect.poll(() => vm.screenText()).toMatch(/^from-event-10$/m);
});

test("Copy puts the terminal's text on the clipboard (its selection, else what is on screen)", async ({ vm }) => {
  await allowClipboard(vm);
  await vm.page.locator("#terminal .xterm-helper-textarea").focus();
  await vm.page.keyboard.type("echo copy-$((6*7))");
  await vm.page.keyboard.press("Enter");
  await expect(vm.page.locator("#terminal")).toContainText("copy-42");
  await vm.page.locator("#terminal-copy").click();
  await expect.poll(() => readClipboard(vm)).toMatch(/^copy-42$/m);
  await setClipboard(vm, "");
  // Ctrl+Shift+C in the terminal, with everything selected by xterm.js's own select-all.
  await vm.page.locator("#terminal .xterm-helper-textarea").focus();
  await vm.page.evaluate(() => document.execCommand("selectAll"));
  await vm.page.keyboard.press("Control+Shift+C");
  await expect.poll(() => readClipboard(vm)).toContain("copy-42");
});
