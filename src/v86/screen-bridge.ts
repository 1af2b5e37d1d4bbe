/**
 * Worker-side screen adapter. v86's own adapter draws into DOM elements, which a worker does not
 * have, so v86 falls back to a dummy adapter; we take over that instance's methods (the VGA device
 * already holds a reference to it) and turn VGA output into frames the main thread paints.
 */
import type { PixelFrame, ScreenFrame, TextFrame } from "../protocol";
import type { ScreenLayer, V86ScreenAdapter, V86Vga } from "./types";
import { cp437ToString } from "../protocol/cp437";

const FRAME_INTERVAL_MS = 33;

export class ScreenBridge {
  private graphical = false;
  private cols = 80;
  private rows = 25;
  private chars = new Uint8Array(80 * 25);
  private fg = new Int32Array(80 * 25);
  private bg = new Int32Array(80 * 25);
  private cursor = { row: 0, col: 0, visible: true };
  private width = 0;
  private height = 0;
  private pixels = new Uint8ClampedArray(0);
  private dirtyMin = Infinity;
  private dirtyMax = -1;
  private textDirty = true;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly vga: () => V86Vga | undefined,
    private readonly emit: (frame: ScreenFrame, transfer: Transferable[]) => void,
  ) {}

  /** Replaces the dummy adapter's methods in place and starts the frame loop. */
  attach(adapter: V86ScreenAdapter): void {
    const self = this;
    const methods: Partial<V86ScreenAdapter> = {
      put_char(row, col, chr, _blinking, bg, fg) {
        const i = row * self.cols + col;
        if (i < 0 || i >= self.chars.length) return;
        self.chars[i] = chr;
        self.fg[i] = fg;
        self.bg[i] = bg;
        self.textDirty = true;
      },
      set_mode(graphical) {
        self.graphical = graphical;
        self.textDirty = true;
        self.markAllDirty();
      },
      set_size_text(cols, rows) {
        if (cols === self.cols && rows === self.rows) return;
        self.cols = cols;
        self.rows = rows;
        self.chars = new Uint8Array(cols * rows);
        self.fg = new Int32Array(cols * rows);
        self.bg = new Int32Array(cols * rows);
        self.textDirty = true;
      },
      set_size_graphical(width, height) {
        if (width === self.width && height === self.height) return;
        self.width = width;
        self.height = height;
        self.pixels = new Uint8ClampedArray(width * height * 4);
        self.markAllDirty();
      },
      update_cursor(row, col) {
        self.cursor.row = row;
        self.cursor.col = col;
        self.textDirty = true;
      },
      update_cursor_scanline(_start, _end, visible) {
        self.cursor.visible = visible;
        self.textDirty = true;
      },
      update_buffer(layers) {
        self.copyLayers(layers);
      },
      clear_screen() {
        self.pixels.fill(0);
        self.markAllDirty();
      },
      clear_text_state() {
        self.chars.fill(0);
        self.textDirty = true;
      },
      get_text_screen() {
        return self.textRows();
      },
      get_text_row(row) {
        return self.textRows()[row] ?? "";
      },
    };
    Object.assign(adapter, methods);
    this.timer = setInterval(() => this.tick(), FRAME_INTERVAL_MS);
  }

  detach(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Rows of the text screen as Unicode; empty while in graphics mode. */
  textRows(): string[] {
    if (this.graphical) return [];
    const out: string[] = [];
    for (let r = 0; r < this.rows; r++) {
      out.push(cp437ToString(this.chars.subarray(r * this.cols, (r + 1) * this.cols)));
    }
    return out;
  }

  /** Forces the next tick to send a complete frame (a new subscriber, a restored state). */
  invalidate(): void {
    this.textDirty = true;
    this.markAllDirty();
    this.vga()?.complete_redraw();
  }

  private markAllDirty(): void {
    this.dirtyMin = 0;
    this.dirtyMax = this.height - 1;
  }

  private copyLayers(layers: ScreenLayer[]): void {
    for (const layer of layers) {
      const src = layer.image_data.data;
      const srcWidth = layer.image_data.width;
      const w = Math.min(layer.buffer_width, this.width - layer.screen_x);
      for (let y = 0; y < layer.buffer_height; y++) {
        const dy = layer.screen_y + y;
        if (dy < 0 || dy >= this.height || w <= 0) continue;
        const from = ((layer.buffer_y + y) * srcWidth + layer.buffer_x) * 4;
        this.pixels.set(src.subarray(from, from + w * 4), (dy * this.width + layer.screen_x) * 4);
        if (dy < this.dirtyMin) this.dirtyMin = dy;
        if (dy > this.dirtyMax) this.dirtyMax = dy;
      }
    }
  }

  private tick(): void {
    const vga = this.vga();
    if (!vga) return;
    // v86's own adapter calls this every animation frame: it renders graphics into layers and
    // advances vertical retrace, which some guests poll.
    vga.screen_fill_buffer();
    if (this.graphical) this.sendPixels();
    else if (this.textDirty) this.sendText();
  }

  private sendText(): void {
    this.textDirty = false;
    const frame: TextFrame = {
      mode: "text",
      cols: this.cols,
      rows: this.rows,
      chars: this.chars.slice(),
      fg: this.fg.slice(),
      bg: this.bg.slice(),
      cursor: { ...this.cursor },
    };
    this.emit(frame, [frame.chars.buffer, frame.fg.buffer, frame.bg.buffer]);
  }

  private sendPixels(): void {
    if (this.dirtyMax < this.dirtyMin || this.width === 0) return;
    const y = this.dirtyMin;
    const rows = this.dirtyMax - this.dirtyMin + 1;
    this.dirtyMin = Infinity;
    this.dirtyMax = -1;
    const rgba = this.pixels.slice(y * this.width * 4, (y + rows) * this.width * 4);
    const frame: PixelFrame = { mode: "graphics", width: this.width, height: this.height, y, rows, rgba };
    this.emit(frame, [rgba.buffer]);
  }
}
