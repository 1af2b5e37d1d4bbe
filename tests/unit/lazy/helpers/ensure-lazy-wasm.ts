import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..", "..", "..");
export const LAZY_WASM_PATH = join(root, "public", "generated", "v86-lazy.wasm");

/** Runs the build step (idempotent, ~1 s) when the instrumented wasm has not been built yet. */
export function ensureLazyWasm(): string {
  if (!existsSync(LAZY_WASM_PATH)) {
    execFileSync(process.execPath, [join(root, "scripts", "instrument-wasm.mjs")], { stdio: "pipe" });
  }
  if (!existsSync(LAZY_WASM_PATH)) throw new Error("scripts/instrument-wasm.mjs did not produce v86-lazy.wasm");
  return LAZY_WASM_PATH;
}
