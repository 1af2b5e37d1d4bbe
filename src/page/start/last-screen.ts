/**
 * The screen as the page left it, shown at once by the next load while the session resumes (the
 * restore and the first frames take a moment): kept in localStorage when the page is hidden or
 * goes away, drawn onto the canvas before the machine starts, replaced by the guest's first frame.
 * `<html data-last-screen="shown" data-last-screen-at=<performance.now()>>` says when it was drawn.
 */
const KEY = "snap86.lastScreen";
/** A 720×400 text screen is ~10-30 KB as WebP; a larger one is not worth localStorage space. */
const MAX_CHARS = 400_000;

interface Kept {
  url: string;
  width: number;
  height: number;
}

/** Stores the canvas's picture now (synchronous: 20-40 ms of encoding on the page's thread). */
function keepLastScreen(canvas: HTMLCanvasElement): void {
  store(canvas.toDataURL("image/webp", KEEP_QUALITY), canvas);
}

function store(url: string, size: { width: number; height: number }): void {
  try {
    if (url.length > MAX_CHARS) return localStorage.removeItem(KEY);
    localStorage.setItem(KEY, JSON.stringify({ url, width: size.width, height: size.height } satisfies Kept));
  } catch {
    // Storage full or disabled: the next load just shows no picture.
  }
}

const KEEP_QUALITY = 0.7;
/** A picture is kept this long after the screen last changed (a burst of frames is encoded once). */
const SETTLE_MS = 250;

/**
 * Keeps the picture while the page runs, shortly after the screen changes, encoded off the page's
 * thread (canvas.toBlob). Encoding it only when the page went away cost a reload ~60 ms before the
 * next page could even start (pagehide and visibilitychange each encoded it, 20-40 ms apiece).
 * `leaving()` (pagehide, hidden) encodes synchronously only when the screen changed since the last
 * picture, which the continuous session save's ~1 s staleness makes rare.
 */
export class LastScreenKeeper {
  #version = 0;
  #kept = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly running: () => boolean,
  ) {}

  /** Call after every frame drawn. */
  changed(): void {
    this.#version++;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#keepInBackground(), SETTLE_MS);
  }

  /** The page is hidden or goes away: the picture must be current now. */
  leaving(): void {
    if (!this.running() || this.#kept === this.#version) return;
    keepLastScreen(this.canvas);
    this.#kept = this.#version;
  }

  #keepInBackground(): void {
    if (!this.running()) return;
    const version = this.#version;
    const { width, height } = this.canvas;
    this.canvas.toBlob(
      (blob) => {
        if (!blob) return;
        const reader = new FileReader();
        reader.onload = () => {
          // A newer frame's picture (or the synchronous one of leaving()) wins.
          if (version < this.#kept || typeof reader.result !== "string") return;
          store(reader.result, { width, height });
          this.#kept = version;
        };
        reader.readAsDataURL(blob);
      },
      "image/webp",
      KEEP_QUALITY,
    );
  }
}

/** Draws the kept picture, if any; resolves whether it did. */
export async function showLastScreen(canvas: HTMLCanvasElement): Promise<boolean> {
  let kept: Kept;
  try {
    kept = JSON.parse(localStorage.getItem(KEY) ?? "null") as Kept;
    if (!kept || typeof kept.url !== "string" || !kept.url.startsWith("data:image/")) return false;
  } catch {
    return false;
  }
  const image = new Image();
  image.src = kept.url;
  try {
    await image.decode();
  } catch {
    return false;
  }
  const ctx = canvas.getContext("2d");
  if (!ctx) return false;
  if (canvas.width !== kept.width || canvas.height !== kept.height) {
    canvas.width = kept.width;
    canvas.height = kept.height;
  }
  ctx.drawImage(image, 0, 0);
  document.documentElement.dataset.lastScreen = "shown";
  document.documentElement.dataset.lastScreenAt = String(Math.round(performance.now()));
  return true;
}
