// Serves a production build of the app on a free loopback port for a benchmark run.
import { spawn, spawnSync } from "node:child_process";
import { freePort } from "../../scripts/lib/ports.mjs";
import { ROOT, setup } from "../../scripts/lib/setup.mjs";

async function waitFor(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server at ${url} did not come up`);
}

/** Builds (unless SNAP86_BENCH_NO_BUILD=1) and serves the app; returns its URL and a stop function. */
export async function startApp() {
  setup({ browser: true });
  if (process.env.SNAP86_BENCH_NO_BUILD !== "1") {
    const r = spawnSync("npx", ["vite", "build", "--logLevel", "error"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
    if (r.status !== 0) throw new Error("vite build failed");
  }
  // A fixed port where the machine's ports are shared out (SNAP86_BENCH_APP_PORT), else any free one.
  const port = Number(process.env.SNAP86_BENCH_APP_PORT) || (await freePort());
  const child = spawn("npx", ["vite", "preview", "--port", String(port), "--strictPort", "--host", "127.0.0.1"], {
    cwd: ROOT,
    stdio: "ignore",
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  // A preview that exits at once (its port taken) must not leave the bench measuring whatever
  // else answers there.
  const exited = new Promise((_, reject) => child.once("exit", (code) => reject(new Error(`vite preview on port ${port} exited (${code}): is the port taken?`))));
  exited.catch(() => undefined);
  await Promise.race([waitFor(`${url}/guest/guest.json`, 30_000), exited]);
  return { url, stop: () => process.kill(-child.pid, "SIGTERM") };
}
