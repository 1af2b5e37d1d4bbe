/**
 * A first visit starts from the guest's clean booted state published beside the guest image
 * (scripts/published-state): it is opened like a share link, lazily, so the shell answers after
 * the device state and the first pages arrived instead of after a BIOS boot. It is used only when
 * it was made from exactly the guest build and the v86 wasm this app serves; otherwise the page
 * boots cold and says why.
 */
import { GUEST_URLS, type GuestName } from "../../protocol/guest-manifest";
import { publishedMismatch, publishedStateUrl, PUBLISHED_FILE, type PublishedState } from "../../protocol/published-state";

/** Where the worker reads whether lazy restore is available (src/v86/lazy-support.ts). */
const LAZY_MARKER_URL = "/generated/lazy-wasm.json";

export type PublishedStart =
  | { use: true; state: PublishedState; link: string; store: string }
  | { use: false; reason: string; missing?: boolean };

async function json(url: URL | string): Promise<unknown> {
  const response = await fetch(url, { cache: "no-cache" });
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${String(url)}`);
  return response.json();
}

/** Whether this page may start `guest` from its published state, and from where. */
export async function publishedStart(guest: GuestName, page: Pick<Location, "href" | "origin" | "pathname">): Promise<PublishedStart> {
  const guestUrl = new URL(GUEST_URLS[guest], page.href);
  const folder = publishedStateUrl(guestUrl);
  let state: PublishedState;
  try {
    state = (await json(new URL(PUBLISHED_FILE, folder))) as PublishedState;
  } catch {
    return { use: false, missing: true, reason: "no clean booted state is published for this guest (node scripts/publish-state.mjs makes it)" };
  }
  let guestImageId: string;
  let marker: { available?: boolean; v86Version?: string; outputSha256?: string };
  try {
    const [g, m] = await Promise.all([json(guestUrl), json(new URL(LAZY_MARKER_URL, page.href))]);
    guestImageId = String((g as { inputsHash?: unknown }).inputsHash ?? "");
    marker = m as typeof marker;
  } catch (e) {
    return { use: false, reason: `the guest's build could not be checked (${(e as Error).message})` };
  }
  const mismatch = publishedMismatch(state, { guestImageId, v86Version: String(marker.v86Version ?? ""), ...(marker.outputSha256 ? { lazyWasmSha256: marker.outputSha256 } : {}) });
  if (mismatch) return { use: false, reason: mismatch };
  if (!/^share=[0-9a-f]{64}\.[A-Za-z0-9_-]{43}$/.test(state.fragment)) return { use: false, reason: "its description is damaged" };
  // The store path has no trailing slash: StoreClient appends "/objects/<name>".
  return { use: true, state, link: `${page.origin}${page.pathname}#${state.fragment}`, store: folder.pathname.replace(/\/+$/, "") };
}
