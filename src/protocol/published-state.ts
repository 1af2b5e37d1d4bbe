/**
 * The guest's clean booted state published beside the guest image (scripts/published-state):
 * `<guest dir>/state/published.json` describes it, and its objects and manifest are a share
 * (src/share) in `<guest dir>/state/{objects,manifests}/`, read with the share link's fragment
 * below. A first visit opens it lazily instead of booting (src/page/start/first-visit.ts).
 */
export const PUBLISHED_DIR = "state";
export const PUBLISHED_FILE = "published.json";
export const PUBLISHED_SCHEMA = 1;

export interface PublishedState {
  schema: number;
  /** Hash of everything it was made from (guest build, v86 wasm files, builder): rebuilt when it changes. */
  key: string;
  /** guest.json inputsHash of the guest it was booted from. */
  guestImageId: string;
  /** The v86 version it ran on. */
  v86Version: string;
  /** sha256 of the instrumented wasm it ran on (public/generated/v86-lazy.wasm). */
  lazyWasmSha256: string;
  checkpointId: string;
  /** `share=<manifest>.<key>`: the share whose objects are in this folder. */
  fragment: string;
  /** All its objects, the pack included. */
  bytes: number;
  packBytes: number;
  workingSetPages: number;
  /** How long the headless boot took at build time. */
  bootMs: number;
}

/** The published state's folder for a guest whose guest.json is at `guestUrl`. */
export function publishedStateUrl(guestUrl: string | URL, base?: string | URL): URL {
  return new URL(`${PUBLISHED_DIR}/`, new URL(guestUrl, base));
}

/** Why `state` cannot start this page's machine, or undefined when it can. */
export function publishedMismatch(state: PublishedState, running: { guestImageId: string; v86Version: string; lazyWasmSha256?: string }): string | undefined {
  if (state.schema !== PUBLISHED_SCHEMA) return `it has format ${state.schema}, this app reads ${PUBLISHED_SCHEMA}`;
  if (state.guestImageId !== running.guestImageId) return `it was made from guest build ${state.guestImageId.slice(0, 12)}, this app serves ${running.guestImageId.slice(0, 12)}`;
  if (state.v86Version !== running.v86Version) return `it was made with v86 ${state.v86Version}, this app runs ${running.v86Version}`;
  if (running.lazyWasmSha256 !== undefined && state.lazyWasmSha256 !== running.lazyWasmSha256) return `it was made with another build of v86's wasm (${state.lazyWasmSha256.slice(0, 12)}, this app has ${running.lazyWasmSha256.slice(0, 12)})`;
  return undefined;
}
