// The page bundle never includes worker-side modules: the built page entry and every chunk it
// loads (statically or by dynamic import; worker entries referenced by URL are other programs)
// must not contain strings only worker-side modules have. A source check says which import did it.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "vite";
import { afterAll, describe, expect, it } from "vitest";
import { folderGraph } from "../../../scripts/folder-graph.mjs";

/** Strings of worker-side modules: the emulator worker, v86, the stores, lazy restore. */
const WORKER_ONLY = [
  "Checkpoints need a running machine", // src/emulator/running-machine.ts
  "serial0-output-byte", // src/emulator/machine-owner.ts (a v86 event)
  "did not reach unpack_memory", // src/v86/state.ts
  "was not stored before its manifest", // src/checkpoint/store.ts
  "snap86-disk-pending", // src/disk/storage.ts (Web Lock name)
  "the link names checkpoint", // src/lazy/ram-loader.ts
];

/** Folders of src/ whose modules may run on the main thread. */
// storage/: the page keeps an idle connection to each database to hear of another tab's newer
// version (src/storage/watch.ts); it holds schemas and names only, no checkpoint or disk logic.
const PAGE_SIDE = new Set(["page", "protocol", "storage"]);

describe("page bundle", () => {
  let outDir = "";
  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it("page/ imports only page-side folders", () => {
    const imports = [...(folderGraph().get("page") ?? [])];
    expect(imports.filter((f) => !PAGE_SIDE.has(f))).toEqual([]);
  });

  it("the built page and the chunks it loads contain no worker-side module", { timeout: 300_000 }, async () => {
    outDir = await mkdtemp(join(tmpdir(), "snap86-page-bundle-"));
    await build({ configFile: "vite.config.ts", logLevel: "silent", build: { outDir, emptyOutDir: true } });
    const html = await readFile(join(outDir, "index.html"), "utf8");
    const entry = /<script type="module"[^>]*src="\/([^"]+)"/.exec(html)?.[1];
    expect(entry).toBeTruthy();
    const seen = new Set<string>();
    const queue = [entry as string];
    while (queue.length > 0) {
      const file = queue.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      const code = await readFile(join(outDir, file), "utf8");
      for (const marker of WORKER_ONLY) expect(code.includes(marker), `${file} contains "${marker}"`).toBe(false);
      // Static and dynamic imports of other chunks; `new URL("x.js", import.meta.url)` (a worker) is not followed.
      for (const [, spec] of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s*)["']\.\/([^"']+\.js)["']/g)) {
        queue.push(join(file, "..", spec));
      }
    }
    expect(seen.size).toBeGreaterThan(0);
  });
});
