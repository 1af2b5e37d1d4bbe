/**
 * A small picture of the screen to store with a checkpoint, so the list shows what the machine
 * was doing. WebP keeps it to a few KiB; browsers that cannot encode WebP silently hand back PNG,
 * so the MIME type is taken from the blob, not assumed.
 */
import type { CheckpointOptions } from "../../protocol";

export type Thumbnail = NonNullable<CheckpointOptions["thumbnail"]>;

export const THUMBNAIL_WIDTH = 160;

/** Width × height that fits `maxWidth` and keeps the aspect ratio (never upscales, never 0). */
export function thumbnailSize(width: number, height: number, maxWidth = THUMBNAIL_WIDTH): { width: number; height: number } {
  if (width <= 0 || height <= 0) return { width: 0, height: 0 };
  const scale = Math.min(1, maxWidth / width);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  // Chunked: String.fromCharCode(...bytes) overflows the argument limit on large arrays.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function thumbnailMime(type: string): Thumbnail["mime"] | undefined {
  return type === "image/webp" || type === "image/png" || type === "image/jpeg" ? type : undefined;
}

export function thumbnailDataUrl(t: { mime: string; base64: string }): string {
  return `data:${t.mime};base64,${t.base64}`;
}

/**
 * Undefined when the canvas is empty or the browser cannot encode; a checkpoint without a picture
 * is fine. Synchronous on purpose: a checkpoint asked for just before a reset must reach the
 * machine before the reset does, so nothing may be awaited in between.
 */
export function renderThumbnail(source: HTMLCanvasElement, maxWidth = THUMBNAIL_WIDTH): Thumbnail | undefined {
  const { width, height } = thumbnailSize(source.width, source.height, maxWidth);
  if (!width) return undefined;
  try {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d");
    if (!ctx) return undefined;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(source, 0, 0, width, height);
    const url = canvas.toDataURL("image/webp", 0.8);
    const match = /^data:([^;,]+);base64,(.*)$/.exec(url);
    const mime = match && thumbnailMime(match[1]);
    return mime && match ? { mime, base64: match[2] } : undefined;
  } catch {
    return undefined;
  }
}
