/**
 * The screen and the serial terminal keep every key for the guest (Tab and Escape included), so
 * a keyboard user needs one key the guest rarely wants to get out: Ctrl+Alt+Esc. While either
 * holds focus the page says so beside it.
 */

export const RELEASE_KEY_LABEL = "Ctrl+Alt+Esc";
/** For aria-keyshortcuts. */
export const RELEASE_KEY_ARIA = "Control+Alt+Escape";

export function isReleaseKey(e: KeyboardEvent): boolean {
  return e.key === "Escape" && e.ctrlKey && e.altKey && !e.metaKey;
}

const TABBABLE = 'button, select, input, textarea, a[href], [tabindex]:not([tabindex="-1"])';

function tabbable(el: HTMLElement): boolean {
  if ((el as HTMLButtonElement).disabled || el.tabIndex < 0) return false;
  if (el instanceof HTMLInputElement && el.type === "hidden") return false;
  return el.getClientRects().length > 0;
}

/** Focus to the first control after `from` (outside it) in document order, as Tab would go. */
export function focusNextAfter(from: HTMLElement): void {
  for (const el of document.querySelectorAll<HTMLElement>(TABBABLE)) {
    if (from.contains(el) || !(from.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)) continue;
    if (tabbable(el)) return el.focus();
  }
  from.blur();
}

/**
 * Shows `hint` while focus is inside `area`. The hint is a status region so a screen reader
 * announces it when the area takes the keys.
 */
export function showHintWhileFocused(area: HTMLElement, hint: HTMLElement): void {
  hint.textContent = `Keys go to the guest. ${RELEASE_KEY_LABEL} leaves.`;
  hint.hidden = true;
  area.addEventListener("focusin", () => (hint.hidden = false));
  area.addEventListener("focusout", (e) => {
    if (!(e.relatedTarget instanceof Node && area.contains(e.relatedTarget))) hint.hidden = true;
  });
}
