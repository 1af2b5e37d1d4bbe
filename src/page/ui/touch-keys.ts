/**
 * Typing into the guest on a touch screen: a canvas gives a phone's keyboard nothing to type
 * into, so a text field takes the keys and forwards them, to the VGA screen (as key presses of
 * a US keyboard) or to the serial console (as bytes), with buttons for the keys phones lack.
 * Shown on touch devices only (the `touch` class on <html>, set here).
 */
import { keyForChar, scancodesFor } from "./scancodes";

export interface TouchKeySinks {
  scancodes(codes: number[]): void;
  serial(data: string): void;
}

/** What a named key sends to a serial terminal (VT100). */
const SERIAL_KEYS: Record<string, string> = {
  Escape: "\x1b", Tab: "\t", Enter: "\r", Backspace: "\x7f",
  ArrowUp: "\x1b[A", ArrowDown: "\x1b[B", ArrowRight: "\x1b[C", ArrowLeft: "\x1b[D",
};

/** Ctrl+letter as a terminal sends it: the letter's code with the top three bits cleared. */
export function controlChar(ch: string): string {
  const code = ch.toUpperCase().charCodeAt(0);
  return code >= 0x40 && code < 0x60 ? String.fromCharCode(code & 0x1f) : ch;
}

/** Make and break codes of one key press, with Ctrl and Shift held around it when asked. */
export function pressCodes(code: string, modifiers: { ctrl: boolean; shift: boolean }): number[] {
  const seq: number[] = [];
  const add = (c: string, down: boolean) => seq.push(...(scancodesFor(c, down) ?? []));
  if (modifiers.ctrl) add("ControlLeft", true);
  if (modifiers.shift) add("ShiftLeft", true);
  add(code, true);
  add(code, false);
  if (modifiers.shift) add("ShiftLeft", false);
  if (modifiers.ctrl) add("ControlLeft", false);
  return seq;
}

export function isTouchDevice(): boolean {
  return matchMedia("(pointer: coarse)").matches || navigator.maxTouchPoints > 0;
}

export function mountTouchKeys(root: HTMLElement, canvas: HTMLCanvasElement, sinks: TouchKeySinks): void {
  document.documentElement.classList.toggle("touch", isTouchDevice());
  const input = root.querySelector<HTMLInputElement>("#touch-input");
  const target = root.querySelector<HTMLSelectElement>("#touch-target");
  const ctrlButton = root.querySelector<HTMLButtonElement>('button[data-key="Control"]');
  if (!input || !target || !ctrlButton) return;
  let ctrl = false;
  const setCtrl = (on: boolean) => {
    ctrl = on;
    ctrlButton.setAttribute("aria-pressed", String(on));
  };
  const toSerial = () => target.value === "serial";

  const sendKey = (key: string) => {
    if (toSerial()) sinks.serial(SERIAL_KEYS[key] ?? "");
    else sinks.scancodes(pressCodes(key, { ctrl, shift: false }));
    setCtrl(false);
  };
  const sendText = (text: string) => {
    for (const ch of text) {
      if (toSerial()) sinks.serial(ctrl ? controlChar(ch) : ch);
      else {
        const key = keyForChar(ch);
        if (key) sinks.scancodes(pressCodes(key.code, { ctrl, shift: key.shift }));
      }
      setCtrl(false);
    }
  };

  input.addEventListener("keydown", (e) => {
    if (!(e.key in SERIAL_KEYS)) return;
    e.preventDefault();
    sendKey(e.key);
  });
  // Phone keyboards often send no usable keydown for Backspace; the edit they ask for is the key.
  input.addEventListener("beforeinput", (e) => {
    if (e.inputType !== "deleteContentBackward") return;
    e.preventDefault();
    sendKey("Backspace");
  });
  input.addEventListener("input", () => {
    sendText(input.value);
    input.value = "";
  });
  for (const b of root.querySelectorAll<HTMLButtonElement>("button[data-key]")) {
    b.addEventListener("click", () => {
      const key = b.dataset.key ?? "";
      if (key === "Control") setCtrl(!ctrl);
      else sendKey(key);
      input.focus();
    });
  }
  // A tap on the screen opens the phone's keyboard on the field instead of focusing a canvas.
  canvas.addEventListener("pointerdown", (e) => {
    if (e.pointerType !== "touch") return;
    e.preventDefault();
    input.focus();
  });
}
