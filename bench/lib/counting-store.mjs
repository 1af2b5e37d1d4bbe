// A checkpoint store of our own for bench:share, on a free port, that counts the body bytes of
// every GET it answers: exact store traffic, even for requests made in workers (which the page's
// network events do not all show).
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "../../scripts/lib/setup.mjs";

/** Builds and starts the store; `served` counts GET bytes and requests (reset `bytes` as needed). */
export async function startCountingStore() {
  const built = spawnSync("npx", ["tsc", "-p", "server/tsconfig.build.json"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  if (built.status !== 0) throw new Error("store build failed");
  const { createStoreServer } = await import(pathToFileURL(join(ROOT, ".cache/store-build/server/store-server.js")).href);
  const dir = await mkdtemp(join(tmpdir(), "snap86-bench-share-"));
  const server = createStoreServer({ dir, access: { openWrites: true }, log: process.env.SNAP86_STORE_LOG === "1" ? (line) => console.error(line) : undefined });
  const served = { bytes: 0, requests: 0 };
  // Counts body bytes of every GET answered (objects and manifests), as sent on the wire.
  server.prependListener("request", (req, res) => {
    if (req.method !== "GET") return;
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    const count = (chunk) => {
      if (chunk && typeof chunk !== "function") served.bytes += Buffer.byteLength(chunk);
    };
    res.write = (chunk, ...rest) => (count(chunk), write(chunk, ...rest));
    res.end = (chunk, ...rest) => (count(chunk), end(chunk, ...rest));
    served.requests++;
  });
  // A fixed port where the machine's ports are shared out (SNAP86_BENCH_STORE_PORT), else any free one.
  await new Promise((resolve) => server.listen(Number(process.env.SNAP86_BENCH_STORE_PORT) || 0, "127.0.0.1", resolve));
  return {
    port: server.address().port,
    served,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
