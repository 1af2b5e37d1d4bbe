// Decides at boot whether lazy restore can work in this page and, if so, supplies the
// instrumented wasm to v86. Every V86 instance (boot, reboot) instantiates its own module, so
// the handle is re-captured per instantiation.
import { lazyWasmFn, parseLazyWasmMarker, type LazyWasmHandle, type V86WasmFn } from "./instrumented-wasm";

export const LAZY_MARKER_URL = "/generated/lazy-wasm.json";
export const LAZY_WASM_URL = "/generated/v86-lazy.wasm";

export type LazySupport = { available: true; wasm: LazyWasm } | { available: false; reason: string };

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/**
 * The instrumented wasm, fetched and compiled once per worker (streaming, so the browser's code
 * cache serves a reload): the emulator worker starts this as it starts, before the page asks for
 * a machine, and every V86 instance (boot, restore, reboot, standby) instantiates the same module.
 */
export function compileLazyWasm(url: string = LAZY_WASM_URL): Promise<WebAssembly.Module> {
  let module = compiled.get(url);
  if (!module) {
    module = (async () => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      const streaming = typeof WebAssembly.compileStreaming === "function" && response.headers.get("content-type")?.startsWith("application/wasm");
      return streaming ? WebAssembly.compileStreaming(response) : WebAssembly.compile(await response.arrayBuffer());
    })();
    module.catch(() => compiled.delete(url)); // a failed fetch is tried again by the next start
    compiled.set(url, module);
  }
  return module;
}

/** A `wasm_fn` that remembers the handle of the module it instantiated last. */
export class LazyWasm {
  #current: Promise<LazyWasmHandle> | null = null;

  constructor(private readonly url: string = LAZY_WASM_URL) {}

  readonly wasm_fn: V86WasmFn = async (imports) => {
    const { wasm_fn, loaded } = lazyWasmFn(await compileLazyWasm(this.url));
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
