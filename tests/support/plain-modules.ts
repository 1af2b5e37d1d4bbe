// Worker threads do not go through vitest's transform: this hands them src/ modules as plain JS.
// One flat folder: "./x" and "../folder/x" imports both become "./x.mjs", so every module a
// listed one imports at run time must be listed too.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { transformWithOxc } from "vite";

const SRC = join(import.meta.dirname, "..", "..", "src");

/** Compiles `modules` ([folder, name] under src/) into a temporary folder; returns each module's file URL by name. */
export async function plainModules(prefix: string, modules: ReadonlyArray<readonly [string, string]>): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const urls: Record<string, string> = {};
  for (const [folder, name] of modules) {
    const file = join(SRC, folder, `${name}.ts`);
    const js = (await transformWithOxc(readFileSync(file, "utf8"), file)).code.replace(/from "\.{1,2}\/(?:[\w-]+\/)?([\w-]+)"/g, 'from "./$1.mjs"');
    const out = join(dir, `${name}.mjs`);
    writeFileSync(out, js);
    urls[name] = pathToFileURL(out).href;
  }
  return urls;
}
