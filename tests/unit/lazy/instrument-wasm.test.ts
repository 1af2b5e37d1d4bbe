import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import binaryen from "binaryen";
import { describe, expect, it } from "vitest";
import { LAZY_HOOK } from "../../../src/v86/page-walker";

const root = join(import.meta.dirname, "..", "..", "..");
const script = join(root, "scripts", "instrument-wasm.mjs");
const realV86 = join(root, "node_modules", "v86");
const PAGE_WALK = "_RNvNtNtCslOG1uufA09K_3v863cpu3cpu12do_page_walk";
const LOAD_PDPTE = "_RNvNtNtCslOG1uufA09K_3v863cpu3cpu10load_pdpte";

function run(env: Record<string, string>): string {
  return execFileSync(process.execPath, [script], { env: { ...process.env, ...env }, encoding: "utf8", stdio: "pipe" });
}

function fakeV86(version: string, wasm: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "fake-v86-"));
  mkdirSync(join(dir, "build"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "v86", version }));
  writeFileSync(join(dir, "build", "v86.wasm"), wasm);
  return dir;
}

/** Imports that satisfy the module without v86: no-op functions and a big enough table. */
function stubImports(module: WebAssembly.Module): WebAssembly.Imports {
  const env: Record<string, WebAssembly.ImportValue> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    env[imp.name] = imp.kind === "table" ? new WebAssembly.Table({ element: "anyfunc", initial: 1924 }) : () => 0;
  }
  return { env };
}

describe("scripts/instrument-wasm.mjs", () => {
  const out = mkdtempSync(join(tmpdir(), "lazy-wasm-"));
  const wasmPath = join(out, "v86-lazy.wasm");
  const markerPath = join(out, "lazy-wasm.json");

  it("instruments v86 0.5.462 into a valid module with the hook in front of do_page_walk", async () => {
    run({ SNAP86_WASM_OUT_DIR: out });
    const marker = JSON.parse(readFileSync(markerPath, "utf8"));
    const bytes = readFileSync(wasmPath);
    expect(marker.available).toBe(true);
    expect(marker.v86Version.startsWith("0.5.462")).toBe(true);
    expect(marker.outputSha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(marker.sourceSha256).toBe(createHash("sha256").update(readFileSync(join(realV86, "build", "v86.wasm"))).digest("hex"));
    expect(marker.hook).toMatchObject({ flagExport: LAZY_HOOK.flagExport, pageWalkImport: LAZY_HOOK.pageWalkImport });

    binaryen.setDebugInfo(true);
    const module = binaryen.readBinary(bytes);
    try {
      expect(module.validate()).toBeTruthy();
      const walkBody = binaryen.emitText(binaryen.getFunctionInfo(module.getFunction(PAGE_WALK)).body);
      // The guard is the first statement: flag check, then the import with addr and for_writing.
      const head = walkBody.slice(0, 400).replace(/\s+/g, " ");
      const walkCall = /^\(block \(result i32\) \(if \(global\.get \$snap86_lazy\) \(then \(call \$(\S+) \(local\.get \$0\) \(local\.get \$1\) \)/.exec(head);
      expect(walkCall, head).not.toBeNull();
      // binaryen does not name imports in the name section; resolve the callee to its import.
      expect(binaryen.getFunctionInfo(module.getFunction(walkCall![1]))).toMatchObject({ module: "env", base: LAZY_HOOK.pageWalkImport });
      const pdpteBody = binaryen.emitText(binaryen.getFunctionInfo(module.getFunction(LOAD_PDPTE)).body).replace(/\s+/g, " ");
      const pdpteCall = /^\(block \(if \(global\.get \$snap86_lazy\) \(then \(call \$(\S+) \(local\.get \$0\) \)/.exec(pdpteBody);
      expect(pdpteCall, pdpteBody.slice(0, 200)).not.toBeNull();
      expect(binaryen.getFunctionInfo(module.getFunction(pdpteCall![1]))).toMatchObject({ module: "env", base: LAZY_HOOK.loadPdpteImport });
    } finally {
      module.dispose();
    }

    const compiled = await WebAssembly.compile(bytes);
    const imports = WebAssembly.Module.imports(compiled).filter((i) => i.name.startsWith("snap86_"));
    expect(imports.map((i) => `${i.module}.${i.name}:${i.kind}`).sort()).toEqual(["env.snap86_load_pdpte:function", "env.snap86_page_walk:function"]);
    const instance = await WebAssembly.instantiate(compiled, stubImports(compiled));
    const flag = instance.exports[LAZY_HOOK.flagExport] as WebAssembly.Global;
    expect(flag.value).toBe(0);
    flag.value = 1; // throws if the global were immutable
    expect(flag.value).toBe(1);
    // v86 calls these at start-up; they must still be there.
    expect(typeof instance.exports.rust_init).toBe("function");
    expect(typeof instance.exports.full_clear_tlb).toBe("function");
  });

  it("is idempotent: a second run leaves the output alone", () => {
    const before = statSync(wasmPath).mtimeMs;
    expect(run({ SNAP86_WASM_OUT_DIR: out })).toContain("up to date");
    expect(statSync(wasmPath).mtimeMs).toBe(before);
  });

  it("refuses another v86 version with a marker instead of failing the build", () => {
    const dir = fakeV86("0.5.463", readFileSync(join(realV86, "build", "v86.wasm")));
    const scratch = mkdtempSync(join(tmpdir(), "lazy-wasm-"));
    run({ SNAP86_V86_DIR: dir, SNAP86_WASM_OUT_DIR: scratch });
    const marker = JSON.parse(readFileSync(join(scratch, "lazy-wasm.json"), "utf8"));
    expect(marker.available).toBe(false);
    expect(marker.reason).toMatch(/0\.5\.463.*0\.5\.462/);
    expect(existsSync(join(scratch, "v86-lazy.wasm"))).toBe(false);
  });

  it("refuses a wasm without the expected functions", () => {
    const tiny = new binaryen.Module();
    tiny.addFunction("other", binaryen.none, binaryen.none, [], tiny.nop());
    const bytes = tiny.emitBinary();
    tiny.dispose();
    const dir = fakeV86("0.5.462+gdeadbee", bytes);
    const scratch = mkdtempSync(join(tmpdir(), "lazy-wasm-"));
    run({ SNAP86_V86_DIR: dir, SNAP86_WASM_OUT_DIR: scratch });
    const marker = JSON.parse(readFileSync(join(scratch, "lazy-wasm.json"), "utf8"));
    expect(marker).toEqual({ available: false, reason: expect.stringContaining("do_page_walk not found") });
  });

  it("refuses a do_page_walk with another signature", () => {
    const wrong = new binaryen.Module();
    wrong.addFunction(PAGE_WALK, binaryen.createType([binaryen.i32]), binaryen.i32, [], wrong.i32.const(0));
    wrong.addFunction(LOAD_PDPTE, binaryen.i32, binaryen.none, [], wrong.nop());
    binaryen.setDebugInfo(true);
    const bytes = wrong.emitBinary();
    wrong.dispose();
    const dir = fakeV86("0.5.462", bytes);
    const scratch = mkdtempSync(join(tmpdir(), "lazy-wasm-"));
    run({ SNAP86_V86_DIR: dir, SNAP86_WASM_OUT_DIR: scratch });
    const marker = JSON.parse(readFileSync(join(scratch, "lazy-wasm.json"), "utf8"));
    expect(marker.available).toBe(false);
    expect(marker.reason).toContain("unexpected signature");
  });
});
