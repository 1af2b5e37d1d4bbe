// What the page showed, for a failure message: a step that passes nearly always must say, the
// time it does not, what the page was doing (state line, error, notice, serial tail, screen).
import type { Page } from "@playwright/test";

export async function pageState(page: Page): Promise<string> {
  const seen = await page
    .evaluate(async () => ({
      state: document.getElementById("status-state")?.textContent,
      error: document.getElementById("error")?.textContent,
      notice: document.getElementById("notice")?.textContent,
      serial: window.snap86.serialText().slice(-600),
      screen: (await window.snap86.screenText()).slice(0, 600),
    }))
    .catch((why: Error) => ({ unreadable: why.message }));
  return JSON.stringify(seen, null, 1);
}

/** Runs `step`; if it fails, fails with its message and what the page showed. */
export async function explained(page: Page, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (e) {
    throw new Error(`${(e as Error).message}\nThe page showed: ${await pageState(page)}`);
  }
}
