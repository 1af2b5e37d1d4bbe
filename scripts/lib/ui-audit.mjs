// What the UI's audits measure, shared by the browser tests (tests/e2e/ui-*.spec.ts), the
// screenshot script and `npm run bench:ui`: axe-core violations, horizontal overflow, which
// controls exist and which the keyboard reaches, automation markers in the user's terminal.
import { AxeBuilder } from "@axe-core/playwright";

/** The viewports the layout tests and the screenshots use: a phone, a laptop, a desktop. */
export const VIEWPORTS = [
  { name: "phone", width: 390, height: 844 },
  { name: "laptop", width: 1366, height: 768 },
  { name: "desktop", width: 1920, height: 1080 },
];

/** The documented key that gives the keyboard back from the screen and the terminal. */
export const RELEASE_KEY = "Control+Alt+Escape";

/** axe-core on the page as it is now; violations by impact, and the list for messages. */
export async function axeAudit(page) {
  const result = await new AxeBuilder({ page }).analyze();
  const count = (impact) => result.violations.filter((v) => v.impact === impact).length;
  return {
    serious: count("serious"),
    critical: count("critical"),
    violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) })),
  };
}

/** Pixels the page is wider than the window (0 = no horizontal scroll). */
export function horizontalOverflow(page) {
  return page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth));
}

/**
 * The page's visible, enabled controls, each by a stable key: every one a keyboard user should
 * be able to reach. The terminal counts once (its input field).
 */
export function visibleControls(page) {
  return page.evaluate(() => {
    const selector = 'button, select, input:not([type="hidden"]), textarea, a[href], canvas[tabindex], [tabindex]:not([tabindex="-1"])';
    const keyOf = (el) => {
      if (el.closest("#terminal")) return "#terminal";
      const row = el.closest("li.checkpoint");
      if (row) return `checkpoint ${row.dataset.id} ${el.className}`;
      return el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}${el.dataset.key ? `[data-key=${el.dataset.key}]` : ""}`;
    };
    const keys = [];
    for (const el of document.querySelectorAll(selector)) {
      if (el.disabled || el.getClientRects().length === 0) continue;
      // The file picker's input is invisible over its label: it still takes focus.
      if (getComputedStyle(el).visibility === "hidden") continue;
      const key = keyOf(el);
      if (!keys.includes(key)) keys.push(key);
    }
    return keys;
  });
}

/** The key of the focused control, in visibleControls' terms. */
function focusedKey(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    if (el.closest("#terminal")) return "#terminal";
    const row = el.closest("li.checkpoint");
    if (row) return `checkpoint ${row.dataset.id} ${el.className}`;
    return el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}${el.dataset.key ? `[data-key=${el.dataset.key}]` : ""}`;
  });
}

/**
 * Walks the page with Tab from the top, as a keyboard user would: where the screen or the
 * terminal keeps Tab for the guest, the release key moves on. Returns the controls in the order
 * reached (each once), stopping when focus comes back round or after `limit` presses.
 */
export async function tabWalk(page, limit) {
  // Enough presses to go round every focusable element twice: a fixed cap ran out once a long
  // checkpoint list (four controls per checkpoint) and new panels were on the page.
  limit ??= 2 * (await page.evaluate(() => document.querySelectorAll("button, input, select, textarea, a[href], [tabindex]").length)) + 20;
  // Start from the top whatever had focus before: blur() alone leaves the browser's sequential
  // navigation starting point where the last focused control was (seen in CI after other tests).
  await page.evaluate(() => {
    const start = document.createElement("span");
    start.id = "tab-walk-start";
    start.tabIndex = 0;
    document.body.prepend(start);
    start.focus();
    window.scrollTo(0, 0);
  });
  const order = [];
  try {
    for (let i = 0; i < limit; i++) {
      const current = await focusedKey(page);
      const holdsKeys = current === "#terminal" || current === "#screen";
      await page.keyboard.press(holdsKeys ? RELEASE_KEY : "Tab");
      const key = await focusedKey(page);
      if (key === null) continue;
      if (key === "#tab-walk-start") break; // round the page once
      if (order.includes(key)) {
        if (key === order[0]) break;
        continue;
      }
      order.push(key);
    }
  } finally {
    await page.evaluate(() => document.getElementById("tab-walk-start")?.remove());
  }
  return order;
}

/** Lines of run()'s markers in a terminal transcript. */
export function markerLines(text) {
  return text.split("\n").filter((line) => line.includes("__SNAP86")).length;
}
