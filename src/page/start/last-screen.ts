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

/** Stores the canvas's picture (call when the page is hidden or leaves). */
export function keepLastScreen(canvas: HTMLCanvasElement): void {
  try {
    const url = canvas.toDataURL("image/webp", 0.7);
    if (url.length > MAX_CHARS) return localStorage.removeItem(KEY);
    localStorage.setItem(KEY, JSON.stringify({ url, width: canvas.width, height: canvas.height } satisfies Kept));
  } catch {
    // Storage full or disabled: the next load just shows no picture.
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
