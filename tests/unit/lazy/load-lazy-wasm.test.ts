import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lazyWasmFn, parseLazyWasmMarker } from "../../../src/v86/instrumented-wasm";
import { ensureLazyWasm } from "./helpers/ensure-lazy-wasm";

const root = join(import.meta.dirname, "..", "..", "..");
const wasmPath = ensureLazyWasm();
const hook = { flagExport: "snap86_lazy", importModule: "env", pageWalkImport: "snap86_page_walk", loadPdpteImport: "snap86_load_pdpte" };

describe("parseLazyWasmMarker", () => {
  it("passes the reason of an unavailable build through", () => {
    expect(parseLazyWasmMarker({ available: false, reason: "v86 0.6.0 installed" })).toEqual({ available: false, reason: "v86 0.6.0 installed" });
    expect(parseLazyWasmMarker(null).available).toBe(false);
  });

  it("rejects a marker whose hook names differ from this build's", () => {
    const marker = { available: true, v86Version: "0.5.462", sourceSha256: "a", outputSha256: "b", hook: { ...hook, pageWalkImport: "other" } };
    expect(parseLazyWasmMarker(marker)).toEqual({ available: false, reason: expect.stringContaining("hook names") });
    expect(parseLazyWasmMarker({ ...marker, hook }).available).toBe(true);
  });
});

describe("lazyWasmFn", () => {
  it("instantiates from a path with v86's imports plus the hooks and flips the flag", async () => {
    const compiled = new WebAssembly.Module(readFileSync(wasmPath));
    const env: Record<string, unknown> = {};
    for (const imp of WebAssembly.Module.imports(compiled)) {
      if (imp.name.startsWith("snap86_")) continue; // lazyWasmFn must supply these
      env[imp.name] = imp.kind === "table" ? new WebAssembly.Table({ element: "anyfunc", initial: 1924 }) : () => 0;
    }
    const { wasm_fn, loaded } = lazyWasmFn(wasmPath);
    const exports = await wasm_fn({ env });
    const handle = await loaded;
    expect(handle.exports).toBe(exports);
    expect(handle.memory).toBe(exports.memory);
    expect(handle.isLazy()).toBe(false);
    handle.setLazy(true);
    expect((exports.snap86_lazy as WebAssembly.Global).value).toBe(1);
    handle.setLazy(false);
    expect(handle.isLazy()).toBe(false);
  });

  it("rejects `loaded` when the bytes lack the flag (plain v86.wasm)", async () => {
    const plain = readFileSync(join(root, "node_modules", "v86", "build", "v86.wasm"));
    const compiled = new WebAssembly.Module(plain);
    const env: Record<string, unknown> = {};
    for (const imp of WebAssembly.Module.imports(compiled)) {
      env[imp.name] = imp.kind === "table" ? new WebAssembly.Table({ element: "anyfunc", initial: 1924 }) : () => 0;
    }
    const { wasm_fn, loaded } = lazyWasmFn(new Uint8Array(plain));
    await expect(wasm_fn({ env })).rejects.toThrow(/snap86_lazy/);
    await expect(loaded).rejects.toThrow(/snap86_lazy/);
  });
});
