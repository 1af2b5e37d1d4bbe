/** Downloads a file, reporting progress, and turns HTTP failures into messages a user can act on. */
import type { Progress } from "../protocol";
import { Snap86Error, type ErrorDetail } from "../protocol/errors";

type LoadErrorCode = "image-unreachable" | "image-not-found" | "image-http" | "image-invalid" | "guest-invalid" | "timeout";

/** A download (guest manifest, kernel, a user's image) that failed: the code says how. */
export class LoadError extends Snap86Error<LoadErrorCode> {
  override name = "LoadError";
  constructor(code: LoadErrorCode, message: string, detail?: ErrorDetail) {
    super(code, message, { detail });
  }
}

export function httpLoadCode(status: number): LoadErrorCode {
  return status === 404 || status === 410 ? "image-not-found" : "image-http";
}

export async function fetchWithProgress(
  url: string,
  label: string,
  onProgress: (p: Progress) => void,
  expectedSize?: number,
  /** A web page where an image was expected is almost always a wrong URL, not a disk. */
  refuseHtml = false,
): Promise<ArrayBuffer> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new LoadError("image-unreachable", `Could not download ${label} from ${url}: network error (${(e as Error).message})`, { url });
  }
  if (!response.ok) {
    throw new LoadError(httpLoadCode(response.status), `Could not download ${label} from ${url}: HTTP ${response.status} ${response.statusText}`.trim(), { url, status: response.status });
  }
  if (refuseHtml && (response.headers.get("content-type") ?? "").startsWith("text/html")) {
    throw new LoadError("image-invalid", `${url} returned a web page, not a disk image: check the URL`, { url });
  }
  return readWithProgress(response, label, onProgress, expectedSize);
}

/** Reads a response's body whole, reporting progress (a download already answered). */
export async function readWithProgress(response: Response, label: string, onProgress: (p: Progress) => void, expectedSize?: number): Promise<ArrayBuffer> {
  const total = Number(response.headers.get("content-length")) || expectedSize || 0;
  if (!response.body) return response.arrayBuffer();
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  onProgress({ label, loaded, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.byteLength;
    onProgress({ label, loaded, total: Math.max(total, loaded) });
  }
  const out = new Uint8Array(loaded);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out.buffer;
}

export async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
