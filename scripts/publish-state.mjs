#!/usr/bin/env node
// Publishes the built-in guest's clean booted state beside it (public/guest/state/): boots the
// guest headless (~10-20 s), captures it as the browser's golden checkpoint would be, writes it
// as a share the first visit opens lazily. Skipped when the state of this exact guest build,
// v86 wasm and builder is already there. `--force` rebuilds, `--check` only says whether it is current.
// The builder is TypeScript (it reuses src/checkpoint and src/share): Vite's module loader runs it.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const GUEST_DIR = join(ROOT, "public", "guest");
const LAZY_WASM = join(ROOT, "public", "generated", "v86-lazy.wasm");
const BUILDER_DIR = join(ROOT, "scripts", "published-state");

function builderHash() {
  const h = createHash("sha256");
  for (const f of readdirSync(BUILDER_DIR).sort()) h.update(f).update(readFileSync(join(BUILDER_DIR, f)));
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  // The machine's devices are the browser's (build.ts takes them from there): a change republishes.
  h.update(readFileSync(join(ROOT, "src", "v86", "machine-devices.ts")));
  return h.digest("hex");
}

async function main(argv) {
  const force = argv.includes("--force");
  if (!existsSync(join(GUEST_DIR, "guest.json"))) {
    process.stderr.write("publish-state: no guest in public/guest (run node scripts/build-guest.mjs first)\n");
    return 2;
  }
  if (!existsSync(LAZY_WASM)) execFileSync(process.execPath, [join(ROOT, "scripts", "instrument-wasm.mjs")], { stdio: "inherit" });
  const require = createRequire(import.meta.url);
  const paths = { guestDir: GUEST_DIR, lazyWasm: LAZY_WASM, plainWasm: join(dirname(require.resolve("v86")), "v86.wasm"), builderHash: builderHash() };
  const { createServer } = await import("vite");
  const server = await createServer({ root: ROOT, configFile: false, logLevel: "error", server: { middlewareMode: true, hmr: false, ws: false }, optimizeDeps: { noDiscovery: true } });
  try {
    const builder = await server.ssrLoadModule(join(BUILDER_DIR, "build.ts"));
    const current = builder.currentState(paths);
    if (argv.includes("--check")) {
      process.stdout.write(current ? "published state is up to date\n" : "published state is missing or stale\n");
      return current ? 0 : 1;
    }
    if (current && !force) {
      process.stdout.write("published state is up to date\n");
      return 0;
    }
    await builder.buildPublishedState(paths, (line) => process.stdout.write(`${line}\n`));
    return 0;
  } finally {
    await server.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`publish-state: ${e?.stack ?? e}\n`);
    process.exit(1);
  },
);
