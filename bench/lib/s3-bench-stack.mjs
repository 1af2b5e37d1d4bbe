// For bench:store: Ceph RGW (scripts/rgw/start.sh), a TCP proxy in front of it that counts the
// bytes the bucket sends (presigned URLs name the proxy, and RGW checks signatures against the
// Host header it receives, which the proxy leaves alone), and the store as its own process on the
// S3 backend, so its memory is its own.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { join } from "node:path";
import { ROOT } from "../../scripts/lib/setup.mjs";
import { freePort } from "../../scripts/lib/ports.mjs";

export async function startS3Stack(onTeardown) {
  const rgwPort = Number(process.env.SNAP86_RGW_PORT ?? 7492);
  const data = join(ROOT, ".cache", `rgw-bench-${rgwPort}`);
  const start = join(ROOT, "scripts", "rgw", "start.sh");
  const config = JSON.parse(execFileSync(start, [data, String(rgwPort), String(process.env.SNAP86_RGW_MON_PORT ?? 3397)], { encoding: "utf8" }).trim().split("\n").pop());
  onTeardown(() => execFileSync(join(ROOT, "scripts", "rgw", "stop.sh"), [data]));

  const served = { bytes: 0 };
  const proxy = createServer((client) => {
    const upstream = connect(rgwPort, "127.0.0.1");
    client.pipe(upstream);
    upstream.on("data", (d) => (served.bytes += d.byteLength));
    upstream.pipe(client);
    const close = () => (client.destroy(), upstream.destroy());
    client.on("error", close);
    upstream.on("error", close);
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  onTeardown(() => proxy.close());
  const endpoint = `http://127.0.0.1:${proxy.address().port}`;
  const s3Json = join(data, "s3-proxied.json");
  writeFileSync(s3Json, JSON.stringify({ ...config, endpoint }));

  if (spawnSync("npx", ["tsc", "-p", "server/tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" }).status !== 0) throw new Error("store build failed");
  const port = await freePort();
  const store = spawn(process.execPath, [join(ROOT, ".cache/store-build/server/main.js")], {
    cwd: ROOT,
    env: { ...process.env, SNAP86_STORE_PORT: String(port), SNAP86_STORE_S3: s3Json, SNAP86_STORE_S3_BUCKET: "bench", SNAP86_STORE_DIR: join(data, "store") },
    stdio: ["ignore", "pipe", "inherit"],
  });
  onTeardown(() => store.kill("SIGTERM"));
  await new Promise((resolve, reject) => {
    store.stdout.on("data", (d) => String(d).includes("checkpoint store on") && resolve());
    store.once("exit", (code) => reject(new Error(`store exited (${code})`)));
  });
  return { port, pid: store.pid, served, server: config.server, endpoint };
}
