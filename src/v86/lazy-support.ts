// Decides at boot whether lazy restore can work in this page and, if so, supplies the
// instrumented wasm to v86. Every V86 instance (boot, reboot) instantiates its own module, so
// the handle is re-captured per instantiation.
import { lazyWasmFn, parseLazyWasmMarker, type LazyWasmHandle, type V86WasmFn } from "./instrumented-wasm";

export const LAZY_MARKER_URL = "/generated/lazy-wasm.json";
export const LAZY_WASM_URL = "/generated/v86-lazy.wasm";

export type LazySupport = { available: true; wasm: LazyWasm } | { available: false; reason: string };

/** A `wasm_fn` that remembers the handle of the module it instantiated last. */
export class LazyWasm {
  #bytes: Promise<ArrayBuffer> | null = null;
  #current: Promise<LazyWasmHandle> | null = null;

  constructor(private readonly url: string = LAZY_WASM_URL) {}

  readonly wasm_fn: V86WasmFn = async (imports) => {
    this.#bytes ??= fetch(this.url).then((r) => {
      if (!r.ok) throw new Error(`${this.url}: HTTP ${r.status}`);
      return r.arrayBuffer();
    });
    const { wasm_fn, loaded } = lazyWasmFn(await this.#bytes);
    this.#current = loaded;
    return wasm_fn(imports);
  };

  /** The handle of the running emulator's wasm (rejects if none was instantiated through us). */
  handle(): Promise<LazyWasmHandle> {
    return this.#current ?? Promise.reject(new Error("the emulator was not started with the instrumented wasm"));
  }
}

/**
 * Checks what lazy restore needs: SharedArrayBuffer + Atomics.wait (cross-origin isolation) and
 * an instrumented wasm built for this v86 (the marker written by scripts/instrument-wasm.mjs).
 */
export async function detectLazySupport(markerUrl: string = LAZY_MARKER_URL): Promise<LazySupport> {
  if (typeof SharedArrayBuffer === "undefined" || (typeof crossOriginIsolated === "boolean" && !crossOriginIsolated)) {
    return { available: false, reason: "the page is not cross-origin isolated (COOP/COEP headers missing), so RAM cannot be faulted in" };
  }
  try {
    const response = await fetch(markerUrl);
    if (!response.ok) return { available: false, reason: `${markerUrl}: HTTP ${response.status} (run npm run build:wasm)` };
    const marker = parseLazyWasmMarker(await response.json());
    if (!marker.available) return { available: false, reason: marker.reason };
    return { available: true, wasm: new LazyWasm() };
  } catch (e) {
    return { available: false, reason: `lazy restore marker unreadable: ${e instanceof Error ? e.message : String(e)}` };
  }
}
