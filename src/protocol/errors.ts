/**
 * The one error type of snap86. Every failure a user can meet carries a `code`; the code (not
 * the text) is what crosses threads intact (src/protocol/transfer.ts) and what the page chooses
 * its message by (src/page/ui/error-messages.ts). `message` stays a complete English sentence
 * for API callers and logs; `detail` holds the few facts a message needs (an HTTP status, a URL).
 */

/** Share links and the store (src/share/errors.ts makes these). */
export type ShareErrorCode =
  | "link-malformed"
  | "link-key-invalid"
  | "wrong-key"
  | "damaged"
  | "unknown-version"
  | "store-unreachable"
  | "object-missing"
  | "integrity"
  | "store-refused"
  | "guest-mismatch";

export type ErrorCode =
  // The caller's own doing.
  | "aborted"
  | "timeout"
  | "machine-off"
  /** Another operation of the same kind is under way (a second boot while the page starts one). */
  | "busy"
  /** This machine cannot do that (a user's own image, a secure session, an in-memory disk). */
  | "unsupported"
  | "no-clean-state"
  | "invalid-argument"
  | "config-invalid"
  /** A file the caller named is not there (the host folder, or a guest path to download). */
  | "file-not-found"
  // Images: the guest manifest, the base image, a user's image.
  | "guest-invalid"
  | "image-unreachable"
  | "image-not-found"
  | "image-http"
  | "image-invalid"
  | "image-corrupt"
  /** A user's image larger than a share link carries (src/share/image-share.ts MAX_UPLOAD_IMAGE_BYTES). */
  | "image-too-large"
  // Storage in this browser.
  | "storage-full"
  | "storage-superseded"
  /** IndexedDB failed a write or delete for another reason than space (retried later). */
  | "storage-failed"
  | "disk-locked"
  | "disk-invalid"
  // Stored checkpoints and .snap86 files.
  | "checkpoint-missing"
  | "checkpoint-format"
  | "checkpoint-incompatible"
  | "checkpoint-corrupt"
  | "lazy-fault"
  | "engine"
  | ShareErrorCode
  /** A bug: nothing the user did explains it. */
  | "internal";

/** Facts a message may quote; plain values so they survive structured clone. */
export type ErrorDetail = Readonly<Record<string, string | number | boolean>>;

export class Snap86Error<C extends ErrorCode = ErrorCode> extends Error {
  override name = "Snap86Error";
  readonly detail: ErrorDetail;

  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown; detail?: ErrorDetail },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.detail = options?.detail ?? {};
  }
}

/** How an error travels between threads (and is kept in events). */
export interface WireError {
  code: ErrorCode;
  name: string;
  message: string;
  detail: ErrorDetail;
  stack?: string;
}

function hasName(e: unknown, name: string): boolean {
  return typeof e === "object" && e !== null && (e as { name?: unknown }).name === name;
}

/** The code of anything thrown: ours carry one; the platform's few known ones are mapped. */
export function errorCode(e: unknown): ErrorCode {
  if (e instanceof Snap86Error) return e.code;
  if (hasName(e, "AbortError")) return "aborted";
  if (hasName(e, "TimeoutError")) return "timeout";
  if (hasName(e, "QuotaExceededError")) return "storage-full";
  return "internal";
}

export function isAborted(e: unknown): boolean {
  return errorCode(e) === "aborted";
}

export function toWireError(e: unknown): WireError {
  if (e instanceof Error) {
    const detail = e instanceof Snap86Error ? e.detail : {};
    return { code: errorCode(e), name: e.name, message: e.message, detail, stack: e.stack };
  }
  return { code: "internal", name: "Error", message: String(e), detail: {} };
}

/** The receiving side's copy: a Snap86Error with the sender's code, name, message and stack. */
export function fromWireError(w: WireError): Snap86Error {
  const error = new Snap86Error(w.code, w.message, { detail: w.detail });
  error.name = w.name;
  if (w.stack !== undefined) error.stack = w.stack;
  return error;
}

/** The error a cancelled operation rejects with (the signal's own reason if it is one of ours). */
export function abortError(signal?: AbortSignal): Snap86Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Snap86Error) return reason;
  return new Snap86Error("aborted", "Cancelled");
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** `e` as one of ours: itself, or wrapped with the code errorCode() gives it (the cause kept). */
export function asSnap86Error(e: unknown): Snap86Error {
  if (e instanceof Snap86Error) return e;
  return new Snap86Error(errorCode(e), e instanceof Error ? e.message : String(e), { cause: e });
}
