/** The serial console pane: xterm.js wired to the emulator's first serial port. */
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { focusNextAfter, isReleaseKey } from "./focus-release";

/**
 * xterm.js answers a cursor-position query (ESC[6n, which busybox's line editor sends at each
 * prompt) through the same onData as typed keys. On a busy page the answer is sent after keys
 * typed meanwhile (a person's, or run()'s command), and the shell reads "^[[24;11R" as part of
 * the command line. The line editor works without the answer, so it is not sent. (Shift+F3 to
 * F4 with modifiers share the answer's shape, CSI 1;<m>R, and are dropped too: a rare key.)
 */
export function withoutTerminalReplies(data: string): string {
  return data.replace(/\x1b\[\d+;\d+R/g, "");
}

/** The terminal's selection, or the rows on screen when nothing is selected (trailing blanks cut). */
export function terminalText(term: Terminal): string {
  if (term.hasSelection()) return term.getSelection();
  const buffer = term.buffer.active;
  const rows: string[] = [];
  for (let y = buffer.viewportY; y < buffer.viewportY + term.rows; y++) rows.push(buffer.getLine(y)?.translateToString(true) ?? "");
  return rows.join("\n").trimEnd();
}

export function createSerialTerminal(container: HTMLElement, send: (data: string) => void): Terminal {
  const term = new Terminal({
    cols: 80,
    rows: 24,
    convertEol: false,
    cursorBlink: true,
    scrollback: 5000,
    fontFamily: '"DejaVu Sans Mono", "Liberation Mono", monospace',
    fontSize: 13,
    theme: { background: "#0d0f13" },
  });
  term.open(container);
  term.onData((data) => {
    const typed = withoutTerminalReplies(data);
    if (typed) send(typed);
  });
  // xterm.js keeps Tab and Escape for the guest; the release key alone gives focus back.
  term.attachCustomKeyEventHandler((e) => {
    if (!isReleaseKey(e)) return true;
    if (e.type === "keydown") {
      e.preventDefault();
      focusNextAfter(container);
    }
    return false;
  });
  return term;
}
