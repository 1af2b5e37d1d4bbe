import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { createStoreServer, MiB } from "./store-server.js";

// Entry point for `npm run store`. Configuration comes from the environment only, so the same
// build runs in dev (behind Vite's /store proxy) and in tests.
function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

const port = numberFromEnv("SNAP86_STORE_PORT", 5188);
const dir = resolve(process.env.SNAP86_STORE_DIR || ".cache/store");
const maxObjectBytes = numberFromEnv("SNAP86_STORE_MAX_OBJECT_BYTES", 64 * MiB);
const maxManifestBytes = numberFromEnv("SNAP86_STORE_MAX_MANIFEST_BYTES", 8 * MiB);
const log = process.env.SNAP86_STORE_LOG === "1" ? (line: string) => console.log(line) : undefined;

await mkdir(dir, { recursive: true });
const server = createStoreServer({ dir, maxObjectBytes, maxManifestBytes, log });
server.listen(port, "127.0.0.1", () => {
  console.log(`snap86 checkpoint store on http://127.0.0.1:${port}/store/ (data in ${dir})`);
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
  });
}
