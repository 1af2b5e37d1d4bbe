// Loads public/generated/v86-lazy.wasm (written by scripts/instrument-wasm.mjs) through v86's
// `wasm_fn` option, adding the lazy-restore imports to v86's own.
import { LAZY_HOOK, type LazyImports } from "./page-walker";

/** What v86 passes to wasm_fn: `{ env: { ...its imports } }`. */
export type V86WasmImports = { env: Record<string, unknown> } & Record<string, Record<string, unknown>>;
export type V86WasmFn = (imports: V86WasmImports) => Promise<WebAssembly.Exports>;

/** Bytes of the instrumented wasm, or where to get them (URL in browsers, path or file: URL in Node). */
/** A compiled module is instantiated again as it is (no compile on the start's path). */
type ByteSource = ArrayBuffer | Uint8Array | URL | string;
export type LazyWasmSource = ByteSource | WebAssembly.Module;

export interface LazyWasmHandle {
  exports: WebAssembly.Exports;
  memory: WebAssembly.Memory;
  /** Turns the page-walk hook on or off (the exported snap86_lazy global). */
  setLazy(on: boolean): void;
  isLazy(): boolean;
  /** Routes the hook imports; until called they do nothing (the flag is off anyway). */
  setHooks(hooks: LazyImports | null): void;
}

/** public/generated/lazy-wasm.json. */
export type LazyWasmMarker =
  | { available: false; reason: string }
  | {
      available: true;
      v86Version: string;
      sourceSha256: string;
      outputSha256: string;
      hook: { flagExport: string; importModule: string; pageWalkImport: string; loadPdpteImport: string };
    };

export function parseLazyWasmMarker(json: unknown): LazyWasmMarker {
  if (typeof json !== "object" || json === null) return { available: false, reason: "marker is not an object" };
  const m = json as Record<string, unknown>;
  if (m.available !== true) {
    return { available: false, reason: typeof m.reason === "string" ? m.reason : "instrumented wasm unavailable" };
  }
  const hook = m.hook as Record<string, unknown> | undefined;
  if (
    !hook ||
    hook.flagExport !== LAZY_HOOK.flagExport ||
    hook.pageWalkImport !== LAZY_HOOK.pageWalkImport ||
    hook.loadPdpteImport !== LAZY_HOOK.loadPdpteImport
  ) {
    return { available: false, reason: "instrumented wasm uses different hook names than this build" };
  }
  return json as LazyWasmMarker;
}

async function loadBytes(source: ByteSource): Promise<BufferSource> {
  if (source instanceof ArrayBuffer || source instanceof Uint8Array) return source as BufferSource;
  const url = typeof source === "string" ? source : source.href;
  const isNodeFile = url.startsWith("file:") || (typeof location === "undefined" && !/^https?:/.test(url));
  if (isNodeFile) {
    // A computed specifier keeps bundlers from pulling a Node builtin into the browser build.
    const fsModule = "node:fs/promises";
    const fs = (await import(/* @vite-ignore */ fsModule)) as typeof import("node:fs/promises");
    const data = await fs.readFile(url.startsWith("file:") ? new URL(url) : url);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength) as BufferSource;
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/**
 * Returns a `wasm_fn` for `new V86({ wasm_fn })` and a promise of the handle once v86 has
 * instantiated it. v86 loses its own copy of the wasm source this way (only its zstd
 * part-file worker used it).
 */
export function lazyWasmFn(source: LazyWasmSource): { wasm_fn: V86WasmFn; loaded: Promise<LazyWasmHandle> } {
  let hooks: LazyImports | null = null;
  let resolveLoaded!: (handle: LazyWasmHandle) => void;
  let rejectLoaded!: (error: unknown) => void;
  const loaded = new Promise<LazyWasmHandle>((resolve, reject) => {
    resolveLoaded = resolve;
    rejectLoaded = reject;
  });

  const wasm_fn: V86WasmFn = async (imports) => {
    try {
      const env = {
        ...imports.env,
        [LAZY_HOOK.pageWalkImport]: (addr: number, forWriting: number): void => hooks?.snap86_page_walk(addr, forWriting),
        [LAZY_HOOK.loadPdpteImport]: (cr3: number): void => hooks?.snap86_load_pdpte(cr3),
      };
      const all = { ...imports, env } as WebAssembly.Imports;
      const instance =
        source instanceof WebAssembly.Module ? await WebAssembly.instantiate(source, all) : (await WebAssembly.instantiate(await loadBytes(source as ByteSource), all)).instance;
      const exports = instance.exports;
      const flag = exports[LAZY_HOOK.flagExport];
      if (!(flag instanceof WebAssembly.Global)) throw new Error(`wasm lacks the ${LAZY_HOOK.flagExport} global`);
      const memory = exports.memory;
      if (!(memory instanceof WebAssembly.Memory)) throw new Error("wasm lacks its memory export");
      resolveLoaded({
        exports,
        memory,
        setLazy: (on) => {
          flag.value = on ? 1 : 0;
        },
        isLazy: () => flag.value !== 0,
        setHooks: (next) => {
          hooks = next;
        },
      });
      return exports;
    } catch (error) {
      rejectLoaded(error);
      throw error;
    }
  };
  return { wasm_fn, loaded };
}
