#!/usr/bin/env node
// Build step: derive public/generated/v86-lazy.wasm from v86's release wasm, adding the hooks
// lazy page-fault restore needs (see src/lazy/ and src/v86/). The hook points are internal Rust
// functions found by their mangled names, so this only runs against the exact v86 build it was
// written for; anything else produces an "unavailable" marker and the app restores eagerly.
//
// Hook design (kept in sync with src/v86/page-walker.ts, LAZY_HOOK):
//   global  snap86_lazy (exported, mutable i32, 0 = off)
//   import  env.snap86_page_walk(addr: i32, for_writing: i32) -> ()
//           called first thing in do_page_walk when snap86_lazy != 0
//   import  env.snap86_load_pdpte(cr3: i32) -> ()
//           called first thing in load_pdpte when snap86_lazy != 0
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import binaryen from "binaryen";

// Bump when the instrumentation itself changes so idempotency does not keep a stale output.
const INSTRUMENTER_VERSION = 1;
const EXPECTED_V86_VERSION = "0.5.462";
const PAGE_WALK_FN = "_RNvNtNtCslOG1uufA09K_3v863cpu3cpu12do_page_walk";
const LOAD_PDPTE_FN = "_RNvNtNtCslOG1uufA09K_3v863cpu3cpu10load_pdpte";
const HOOK = {
  flagExport: "snap86_lazy",
  importModule: "env",
  pageWalkImport: "snap86_page_walk",
  loadPdpteImport: "snap86_load_pdpte",
  pageWalkFunction: PAGE_WALK_FN,
  loadPdpteFunction: LOAD_PDPTE_FN,
};

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// Overridable so tests can point the script at a fake v86 package and a scratch output folder.
const v86Dir = process.env.SNAP86_V86_DIR ?? join(root, "node_modules", "v86");
const sourcePath = join(v86Dir, "build", "v86.wasm");
const outDir = process.env.SNAP86_WASM_OUT_DIR ?? join(root, "public", "generated");
const outWasm = join(outDir, "v86-lazy.wasm");
const outJson = join(outDir, "lazy-wasm.json");

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

function writeMarker(marker) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(outJson, JSON.stringify(marker, null, 2) + "\n");
}

function refuse(reason) {
  console.warn(`[instrument-wasm] lazy restore unavailable: ${reason}`);
  writeMarker({ available: false, reason });
  process.exit(0);
}

function readPreviousMarker() {
  try {
    return JSON.parse(readFileSync(outJson, "utf8"));
  } catch {
    return null;
  }
}

/** Signature check: the hooks read the function's parameters by position. */
function checkSignature(module, name, params, result) {
  const ref = module.getFunction(name);
  if (!ref) return `function ${name} not found in v86.wasm's name section`;
  const info = binaryen.getFunctionInfo(ref);
  const got = binaryen.expandType(info.params);
  const want = params;
  if (got.length !== want.length || got.some((t, i) => t !== want[i]) || info.results !== result) {
    return `function ${name} has an unexpected signature`;
  }
  if (info.module) return `function ${name} is an import, not a body to instrument`;
  return null;
}

/** Prepends `if (global.get flag) call hook(params...)` to a function body. */
function prependHook(module, fnName, hookName, argLocals) {
  const fn = module.getFunction(fnName);
  const info = binaryen.getFunctionInfo(fn);
  const args = argLocals.map((i) => module.local.get(i, binaryen.i32));
  const guard = module.if(
    module.global.get(HOOK.flagExport, binaryen.i32),
    module.call(hookName, args, binaryen.none),
  );
  binaryen.Function.setBody(fn, module.block(null, [guard, info.body], info.results));
}

function main() {
  if (!existsSync(sourcePath)) refuse(`${sourcePath} is missing (is v86 installed?)`);
  const pkg = JSON.parse(readFileSync(join(v86Dir, "package.json"), "utf8"));
  // npm's version carries a build suffix ("0.5.462+g5f9a90f"); the release number is what
  // pins the Rust symbol hashes.
  const v86Version = String(pkg.version);
  if (v86Version.split("+")[0] !== EXPECTED_V86_VERSION) {
    refuse(`v86 ${v86Version} installed; the hooks were written for ${EXPECTED_V86_VERSION}`);
  }

  const source = readFileSync(sourcePath);
  const sourceSha256 = sha256(source);
  const previous = readPreviousMarker();
  if (
    previous?.available &&
    previous.sourceSha256 === sourceSha256 &&
    previous.instrumenterVersion === INSTRUMENTER_VERSION &&
    existsSync(outWasm) &&
    sha256(readFileSync(outWasm)) === previous.outputSha256
  ) {
    console.log("[instrument-wasm] up to date");
    return;
  }

  // Names are needed to find the functions; keeping them in the output costs little and makes
  // stack traces readable.
  binaryen.setDebugInfo(true);
  // readBinary keeps the features binaryen detects for this module. Enabling "All" makes the
  // emitted binary use encodings V8 rejects ("unknown import kind 0x7f").
  const module = binaryen.readBinary(source);
  const i32 = binaryen.i32;
  const problem =
    checkSignature(module, PAGE_WALK_FN, [i32, i32, i32, i32, i32], i32) ??
    checkSignature(module, LOAD_PDPTE_FN, [i32], binaryen.none);
  if (problem) refuse(problem);
  if (module.getGlobal(HOOK.flagExport)) refuse(`v86.wasm already defines ${HOOK.flagExport}`);

  module.addGlobal(HOOK.flagExport, i32, true, module.i32.const(0));
  module.addGlobalExport(HOOK.flagExport, HOOK.flagExport);
  module.addFunctionImport(HOOK.pageWalkImport, HOOK.importModule, HOOK.pageWalkImport, binaryen.createType([i32, i32]), binaryen.none);
  module.addFunctionImport(HOOK.loadPdpteImport, HOOK.importModule, HOOK.loadPdpteImport, i32, binaryen.none);
  // do_page_walk(addr, for_writing, user, jit, side_effects): pass addr and for_writing.
  prependHook(module, PAGE_WALK_FN, HOOK.pageWalkImport, [0, 1]);
  // load_pdpte(cr3): the PDPT is read with physical loads inside, so fault its page first.
  prependHook(module, LOAD_PDPTE_FN, HOOK.loadPdpteImport, [0]);

  if (!module.validate()) refuse("instrumented module failed binaryen validation");
  const output = module.emitBinary();
  module.dispose();

  mkdirSync(outDir, { recursive: true });
  writeFileSync(outWasm, output);
  writeMarker({
    available: true,
    instrumenterVersion: INSTRUMENTER_VERSION,
    v86Version,
    sourceSha256,
    sourceBytes: source.length,
    outputSha256: sha256(output),
    outputBytes: output.length,
    hook: HOOK,
  });
  console.log(`[instrument-wasm] wrote ${outWasm} (${output.length} bytes from ${source.length})`);
}

main();
