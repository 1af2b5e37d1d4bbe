/** The serial console pane: xterm.js wired to the emulator's first serial port. */
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { focusNextAfter, isReleaseKey } from "./focus-release";

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
  term.onData(send);
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
