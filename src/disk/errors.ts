/** Typed errors of the disk layer, so callers (UI, checkpoints) can tell them apart without parsing text. */

export type BaseImageErrorKind = "range-unsupported" | "not-found" | "http" | "network" | "hash-mismatch" | "short-read";

export class BaseImageError extends Error {
  override name = "BaseImageError";
  constructor(
    readonly kind: BaseImageErrorKind,
    message: string,
    readonly url?: string,
    readonly block?: number,
  ) {
    super(message);
  }
}

/** IndexedDB refused a write for lack of space. Nothing already flushed is lost; unflushed blocks stay in memory. */
export class StorageFullError extends Error {
  override name = "StorageFullError";
  constructor(readonly pendingBytes: number) {
    super("storage full: the VM keeps running, new writes are kept in memory until space is freed");
  }
}

/** Another tab (or another disk in this tab) holds the writable overlay. */
export class LayerLockedError extends Error {
  override name = "LayerLockedError";
  constructor(readonly layerId: string) {
    super(`disk layer ${layerId} is open for writing in another tab; open it read-only or as a new child`);
  }
}

export class LayerError extends Error {
  override name = "LayerError";
}

export function isQuotaError(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const name = (e as { name?: unknown }).name;
  return name === "QuotaExceededError";
}
