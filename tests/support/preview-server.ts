/**
 * `vite preview` of one build on a port of our choosing, for tests that must serve two builds
 * one after the other on the same origin (same IndexedDB). Each build is served with the vite
 * config of its own checkout (`cwd`), so headers and the /store proxy are that version's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

/** A port no fixed test port uses: the kernel's pick from its ephemeral range. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

export interface Preview {
  origin: string;
  stop(): Promise<void>;
}

export async function startPreview(o: { cwd: string; outDir: string; port: number; storePort: string }): Promise<Preview> {
  const child: ChildProcess = spawn("npx", ["vite", "preview", "--port", String(o.port), "--strictPort", "--host", "127.0.0.1", "--outDir", o.outDir], {
    cwd: o.cwd,
    env: { ...process.env, SNAP86_STORE_PORT: o.storePort },
    stdio: ["ignore", "ignore", "inherit"],
    detached: true, // its own process group: stop() ends npx and the vite it started, nothing else
  });
  const exited = once(child, "exit");
  const origin = `http://127.0.0.1:${o.port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGTERM");
    await exited;
  };
  // Ready when it answers, however long that takes; a server that died says so at once.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vite preview in ${o.cwd} exited (${child.exitCode})`);
    const ok = await fetch(`${origin}/guest/guest.json`).then((r) => r.ok, () => false);
    if (ok) return { origin, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
}
