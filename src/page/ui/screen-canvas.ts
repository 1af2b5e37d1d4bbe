/**
 * Paints frames from the worker's screen bridge: text mode as glyph cells (only changed cells are
 * redrawn), graphics mode as RGBA rows. The canvas takes keyboard focus and forwards keys, all
 * but the release key (focus-release.ts).
 */
import type { PixelFrame, ScreenFrame, TextFrame } from "../../protocol";
import { CP437 } from "../../protocol/cp437";
import { scancodesFor } from "./scancodes";
import { focusNextAfter, isReleaseKey } from "./focus-release";

const CELL_W = 9;
const CELL_H = 16;

export class ScreenCanvas {
  private readonly ctx: CanvasRenderingContext2D;
  private last: TextFrame | undefined;
  private cursorCell = -1;

  /** Keys the guest was told are down: released when the page takes the keyboard back. */
  private readonly held = new Set<string>();

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onScancodes: (codes: number[]) => void,
  ) {
    const ctx = canvas.getContext("2d", { alpha: false });
    if (!ctx) throw new Error("2D canvas is not available");
    this.ctx = ctx;
    canvas.tabIndex = 0;
    const key = (down: boolean) => (e: KeyboardEvent) => {
      if (down && isReleaseKey(e)) {
        e.preventDefault();
        focusNextAfter(canvas);
        return;
      }
      const codes = scancodesFor(e.code, down);
      if (!codes) return;
      // Keep Tab, F-keys, Backspace etc. in the guest instead of moving focus or navigating.
      e.preventDefault();
      if (down) this.held.add(e.code);
      else this.held.delete(e.code);
      onScancodes(codes);
    };
    canvas.addEventListener("keydown", key(true));
    canvas.addEventListener("keyup", key(false));
    canvas.addEventListener("pointerdown", () => canvas.focus());
    // The key-ups of Ctrl and Alt (of the release key, or of a click elsewhere) never reach the
    // canvas: without them the guest would keep those keys pressed.
    canvas.addEventListener("blur", () => this.releaseHeld());
  }

  private releaseHeld(): void {
    for (const code of this.held) {
      const codes = scancodesFor(code, false);
      if (codes) this.onScancodes(codes);
    }
    this.held.clear();
  }

  draw(frame: ScreenFrame): void {
    if (frame.mode === "text") this.drawText(frame);
    else this.drawPixels(frame);
  }

  private resize(width: number, height: number): boolean {
    if (this.canvas.width === width && this.canvas.height === height) return false;
    this.canvas.width = width;
    this.canvas.height = height;
    return true;
  }

  private drawText(f: TextFrame): void {
    const resized = this.resize(f.cols * CELL_W, f.rows * CELL_H);
    const prev = !resized && this.last && this.last.cols === f.cols && this.last.rows === f.rows ? this.last : undefined;
    const ctx = this.ctx;
    ctx.font = `${CELL_H - 2}px "DejaVu Sans Mono", "Liberation Mono", monospace`;
    ctx.textBaseline = "top";
    const cursorCell = f.cursor.visible ? f.cursor.row * f.cols + f.cursor.col : -1;
    for (let i = 0; i < f.chars.length; i++) {
      const same =
        prev && prev.chars[i] === f.chars[i] && prev.fg[i] === f.fg[i] && prev.bg[i] === f.bg[i] && i !== cursorCell && i !== this.cursorCell;
      if (same) continue;
      const x = (i % f.cols) * CELL_W;
      const y = Math.floor(i / f.cols) * CELL_H;
      ctx.fillStyle = rgb(f.bg[i]);
      ctx.fillRect(x, y, CELL_W, CELL_H);
      const ch = CP437[f.chars[i]];
      if (ch !== " ") {
        ctx.fillStyle = rgb(f.fg[i]);
        ctx.fillText(ch, x, y + 1, CELL_W);
      }
      if (i === cursorCell) {
        ctx.fillStyle = rgb(f.fg[i]);
        ctx.fillRect(x, y + CELL_H - 3, CELL_W, 2);
      }
    }
    this.cursorCell = cursorCell;
    this.last = f;
  }

  private drawPixels(f: PixelFrame): void {
    this.last = undefined;
    this.resize(f.width, f.height);
    if (f.rows === 0) return;
    this.ctx.putImageData(new ImageData(f.rgba as Uint8ClampedArray<ArrayBuffer>, f.width, f.rows), 0, f.y);
  }
}

function rgb(color: number): string {
  return `#${(color & 0xffffff).toString(16).padStart(6, "0")}`;
}
