// Pictures of the UI at the layout viewports (ui-audit.mjs VIEWPORTS), for the README
// (`npm run screenshot` writes docs/screenshot*.png) and the layout tests (test-results/).
import { VIEWPORTS } from "./ui-audit.mjs";

/** Resolves after the next two frames: the layout of a new viewport size has been painted. */
export function afterLayout(page) {
  return page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
}

/**
 * A scene worth showing on a booted page: a command typed in the serial console by hand (so
 * the terminal shows what a person sees) and on the screen, and a checkpoint in the list.
 */
export async function prepareScene(page) {
  await page.locator("#terminal .xterm-helper-textarea").focus();
  await page.keyboard.type("uname -a; free -m | head -2; df -h / | tail -1; echo shown-$((40+2))");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector("#terminal .xterm-rows")?.textContent?.includes("shown-42"));
  await page.locator("#screen").click();
  await page.keyboard.type("ls /");
  await page.keyboard.press("Enter");
  await page.evaluate(() => window.snap86.checkpoint({ label: "after ls" }));
  await page.locator("#checkpoint-list li.checkpoint").first().waitFor();
  // Focus off the screen: the picture shows the page, not the focus hint.
  await page.evaluate(() => document.activeElement?.blur());
}

/** Saves the page at `viewport` (one of VIEWPORTS) to `path`. */
export async function shoot(page, viewport, path) {
  await page.setViewportSize({ width: viewport.width, height: viewport.height });
  await afterLayout(page);
  await page.screenshot({ path });
  return path;
}

export function viewport(name) {
  const v = VIEWPORTS.find((x) => x.name === name);
  if (!v) throw new Error(`no viewport ${name}`);
  return v;
}
