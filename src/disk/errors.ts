/** Typed errors of the disk layer, so callers (UI, checkpoints) can tell them apart without parsing text. */
import { Snap86Error, type ErrorCode } from "../protocol/errors";

export type BaseImageErrorKind = "range-unsupported" | "not-found" | "http" | "network" | "hash-mismatch" | "short-read";

const BASE_IMAGE_CODES = {
  "range-unsupported": "image-http",
  "not-found": "image-not-found",
  http: "image-http",
  network: "image-unreachable",
  "hash-mismatch": "image-corrupt",
  "short-read": "image-corrupt",
} as const satisfies Record<BaseImageErrorKind, ErrorCode>;

export class BaseImageError extends Snap86Error<(typeof BASE_IMAGE_CODES)[BaseImageErrorKind]> {
  override name = "BaseImageError";
  constructor(
    readonly kind: BaseImageErrorKind,
    message: string,
    readonly url?: string,
    readonly block?: number,
  ) {
    super(BASE_IMAGE_CODES[kind], message, { detail: url === undefined ? { kind } : { kind, url } });
  }
}

/** IndexedDB refused a write for lack of space. Nothing already flushed is lost; unflushed blocks stay in memory. */
export class StorageFullError extends Snap86Error<"storage-full"> {
  override name = "StorageFullError";
  constructor(readonly pendingBytes: number) {
    super("storage-full", "storage full: the VM keeps running, new writes are kept in memory until space is freed", { detail: { pendingBytes } });
  }
}

/** Another tab (or another disk in this tab) holds the writable overlay. */
export class LayerLockedError extends Snap86Error<"disk-locked"> {
  override name = "LayerLockedError";
  constructor(readonly layerId: string) {
    super("disk-locked", `disk layer ${layerId} is open for writing in another tab; open it read-only or as a new child`);
  }
}

/** A disk layer that is inconsistent or used against its rules ("disk-invalid"), or storage that failed it. */
export class LayerError extends Snap86Error<"disk-invalid" | "storage-failed"> {
  override name = "LayerError";
  constructor(message: string, code: "disk-invalid" | "storage-failed" = "disk-invalid") {
    super(code, message);
  }
}

export function isQuotaError(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const name = (e as { name?: unknown }).name;
  return name === "QuotaExceededError";
}
