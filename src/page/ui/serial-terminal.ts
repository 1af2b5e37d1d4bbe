/** The serial console pane: xterm.js wired to the emulator's first serial port. */
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";

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
  return term;
}
