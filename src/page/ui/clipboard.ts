/**
 * Clipboard: paste into the serial terminal (bytes, as typed) and into the VGA screen (key
 * presses of a US keyboard, the guest's default keymap), and copy from the terminal. The browser's
 * own paste event works on both (xterm.js takes it for the terminal, a paste while the screen has
 * focus is typed here); keyboard shortcuts stay the guest's (Ctrl+V, Ctrl+C are its keys). The
 * buttons read and write the clipboard through navigator.clipboard, which asks the user for
 * permission where needed.
 */
import { keyForChar } from "./scancodes";
import { pressCodes } from "./touch-keys";

/** Scancodes a person would type for `text`; characters a US keyboard lacks are counted, not sent. */
export function textToScancodes(text: string): { codes: number[]; skipped: number } {
  const codes: number[] = [];
  let skipped = 0;
  for (const ch of text.replace(/\r\n?/g, "\n")) {
    const key = keyForChar(ch);
    if (key) codes.push(...pressCodes(key.code, { ctrl: false, shift: key.shift }));
    else skipped += 1;
  }
  return { codes, skipped };
}

/** v86's keyboard controller buffers ~1 KiB of scancodes: feed a long paste in slices. */
const SLICE = 256;

export async function typeIntoScreen(text: string, send: (codes: number[]) => Promise<void>): Promise<number> {
  const { codes, skipped } = textToScancodes(text);
  for (let i = 0; i < codes.length; i += SLICE) {
    await send(codes.slice(i, i + SLICE));
    await new Promise((r) => requestAnimationFrame(r));
  }
  return skipped;
}

/** Terminal text as a paste would send it: newlines become the Enter key's CR. */
export function toTerminalInput(text: string): string {
  return text.replace(/\r?\n/g, "\r");
}

export interface ClipboardSinks {
  canvas: HTMLCanvasElement;
  serial(data: string): void;
  scancodes(codes: number[]): Promise<void>;
  /** The terminal's selection, or its visible text when nothing is selected. */
  terminalText(): string;
  onNotice(message: string): void;
}

export function mountClipboard(sinks: ClipboardSinks): void {
  const pasteIntoScreen = async (text: string) => {
    const skipped = await typeIntoScreen(text, sinks.scancodes);
    if (skipped > 0) sinks.onNotice(`${skipped} pasted character${skipped === 1 ? "" : "s"} cannot be typed on a US keyboard and were left out.`);
  };
  sinks.canvas.addEventListener("paste", (e) => {
    const text = e.clipboardData?.getData("text/plain");
    if (!text) return;
    e.preventDefault();
    void pasteIntoScreen(text);
  });
  const read = async (): Promise<string | undefined> => {
    try {
      return await navigator.clipboard.readText();
    } catch {
      sinks.onNotice("The browser did not let this page read the clipboard: paste with Ctrl+V (Shift+Insert) into the terminal or the screen instead.");
      return undefined;
    }
  };
  const pasteScreen = () =>
    void read().then((text) => {
      if (text) void pasteIntoScreen(text);
    });
  const pasteTerminal = () =>
    void read().then((text) => {
      if (text) sinks.serial(toTerminalInput(text));
    });
  const copyTerminal = () => {
    const text = sinks.terminalText();
    void navigator.clipboard.writeText(text).then(
      () => sinks.onNotice(`Copied ${text.length} characters from the terminal.`),
      () => sinks.onNotice("The browser did not let this page write the clipboard: select the text and use Ctrl+Insert or the context menu."),
    );
  };
  document.getElementById("screen-paste")?.addEventListener("click", pasteScreen);
  document.getElementById("terminal-paste")?.addEventListener("click", pasteTerminal);
  document.getElementById("terminal-copy")?.addEventListener("click", copyTerminal);
}
