/**
 * What the page tells a person, chosen by error code (src/protocol/errors.ts). The worker's own
 * message is written for API callers and logs and may name internals; here each code says what
 * happened and what to do, in the page's words, quoting only the facts in `detail`. A code this
 * table does not know (a newer worker, a bug) falls back to the worker's message.
 */
import { errorCode, type ErrorCode, type ErrorDetail, type WireError, Snap86Error } from "../../protocol/errors";

type Describe = (detail: ErrorDetail, message: string) => string;

const text = (s: string): Describe => () => s;
const withUrl = (what: string): Describe => (d) => (typeof d.url === "string" ? `${what}: ${d.url}` : what);

const MESSAGES: Record<ErrorCode, Describe | null> = {
  // Cancelled by the user: nothing to report.
  aborted: null,
  timeout: (_d, m) => m,
  "machine-off": text("The machine is off: boot it first."),
  busy: text("A machine is still starting in this tab: wait until it runs, then try again."),
  unsupported: (_d, m) => m,
  "no-clean-state": text("There is no clean booted state yet: it is saved when the shell first answers after a cold boot."),
  "invalid-argument": (_d, m) => m,
  "config-invalid": (_d, m) => `These machine settings cannot be used: ${m}`,
  "file-not-found": (d, m) => (typeof d.path === "string" ? `There is no file ${d.path} in the guest.` : m),
  "guest-invalid": (_d, m) => `The built-in guest is damaged or out of date (${m}).`,
  "image-unreachable": (d) =>
    `${withUrl("The image could not be downloaded")(d, "")}. The server is not reachable, or it does not let this page read it: ` +
    "it must answer with Access-Control-Allow-Origin (CORS) and allow Range requests.",
  "image-not-found": withUrl("No image at this address (HTTP 404)"),
  "image-http": (d, m) => (typeof d.status === "number" ? `The image server answered HTTP ${d.status}${typeof d.url === "string" ? ` for ${d.url}` : ""}.` : m),
  "image-invalid": (_d, m) => m,
  "image-too-large": (_d, m) => m,
  "image-corrupt": text("The image's bytes do not match what was expected (damaged download or changed file)."),
  "storage-full": text("Browser storage is full: the machine keeps running, new disk writes stay in memory until space is freed. Delete checkpoints to make room."),
  "storage-superseded": text("snap86 was updated in another tab: reload this one. Nothing saved is lost."),
  "storage-failed": (_d, m) => m,
  "disk-locked": text("This disk is open in another tab. Close that tab, or work on a temporary disk here."),
  "disk-invalid": (_d, m) => `The saved disk is inconsistent: ${m}`,
  "checkpoint-missing": text("This checkpoint is not in this browser (deleted, or saved in another browser profile)."),
  "checkpoint-format": (_d, m) => `This is not a checkpoint this snap86 can read: ${m}`,
  "checkpoint-incompatible": (_d, m) => `This checkpoint does not fit this machine: ${m}`,
  "checkpoint-corrupt": (_d, m) => `${m}. Other checkpoints are unaffected.`,
  "lazy-fault": (_d, m) => `The machine stopped because part of its memory could not be loaded: ${m}`,
  engine: (_d, m) => `The emulator refused this state: ${m}`,
  "link-malformed": text("This share link is malformed: copy the whole link."),
  "link-key-invalid": text("This share link's key is invalid: copy the whole link, including the part after #."),
  "wrong-key": text("This link's key does not open this checkpoint."),
  damaged: text("The shared checkpoint is damaged (integrity check failed)."),
  "unknown-version": (d) => `This checkpoint was shared in a format this version of snap86 cannot read${typeof d.version === "string" ? ` (format ${d.version})` : ""}.`,
  "store-unreachable": text("The checkpoint store is not reachable. Try again later; nothing was lost."),
  "object-missing": text("The shared checkpoint is incomplete on the store (it may have expired)."),
  integrity: text("The shared checkpoint is damaged: part of it failed its integrity check."),
  "store-refused": (d, m) => (typeof d.status === "number" ? `The checkpoint store refused the request (HTTP ${d.status}${d.reason ? `: ${d.reason}` : ""}).` : m),
  "guest-mismatch": text("This shared VM needs a different guest image than this app serves, so it cannot be opened here."),
  // A bug or a platform failure: its own words are the best there is.
  internal: (_d, m) => m,
};

function wireOf(e: unknown): WireError {
  if (e instanceof Snap86Error) return { code: e.code, name: e.name, message: e.message, detail: e.detail };
  if (typeof e === "object" && e !== null && "code" in e && "message" in e) {
    const w = e as Partial<WireError>;
    if (typeof w.code === "string" && typeof w.message === "string") return { code: w.code, name: w.name ?? "Error", message: w.message, detail: w.detail ?? {} };
  }
  const message = typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" ? e.message : String(e);
  return { code: errorCode(e), name: "Error", message, detail: {} };
}

/** The sentence to show for `e`, or null when there is nothing to show (the user cancelled). */
export function userMessage(e: unknown): string | null {
  const w = wireOf(e);
  const describe = Object.hasOwn(MESSAGES, w.code) ? MESSAGES[w.code] : (_d: ErrorDetail, m: string) => m;
  return describe ? describe(w.detail, w.message) : null;
}
