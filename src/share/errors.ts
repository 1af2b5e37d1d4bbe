/**
 * Every failure the share feature reports to a user goes through ShareError, a Snap86Error whose
 * code is one of the share codes; anything else escaping these modules is a bug.
 */
import { Snap86Error, type ErrorDetail, type ShareErrorCode } from "../protocol/errors";

export type { ShareErrorCode };

export class ShareError extends Snap86Error<ShareErrorCode> {
  override name = "ShareError";

  constructor(code: ShareErrorCode, message: string, options?: { cause?: unknown; detail?: ErrorDetail }) {
    super(code, message, options);
  }
}

export const shareErrors = {
  linkMalformed: () => new ShareError("link-malformed", "This share link is malformed"),
  linkKeyInvalid: () => new ShareError("link-key-invalid", "This share link's key is invalid"),
  wrongKey: () => new ShareError("wrong-key", "This link's key does not open this checkpoint"),
  damaged: (detail?: string) =>
    new ShareError("damaged", "The shared checkpoint is damaged (integrity check failed)", { cause: detail }),
  unknownVersion: (version: unknown) =>
    new ShareError(
      "unknown-version",
      `This checkpoint was shared in a format this version of snap86 cannot read (format ${String(version).slice(0, 20)})`,
      { detail: { version: String(version).slice(0, 20) } },
    ),
  storeUnreachable: (cause?: unknown) => new ShareError("store-unreachable", "The checkpoint store is not reachable", { cause }),
  objectMissing: (name: string) => new ShareError("object-missing", `The shared checkpoint is missing object ${name}`),
  integrity: (name: string) =>
    new ShareError("integrity", `The shared checkpoint is damaged (object ${name} failed its integrity check)`),
  guestMismatch: (detail: string) =>
    new ShareError("guest-mismatch", `This shared VM needs a different guest image than this app serves (${detail}), so it cannot be opened here`, { detail: { mismatch: detail } }),
  storeRefused: (status: number, detail: string) =>
    new ShareError("store-refused", `The checkpoint store refused the request (HTTP ${status}${detail ? `: ${detail}` : ""})`, { detail: { status, reason: detail } }),
};
