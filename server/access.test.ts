import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStoreServer, type StoreServerOptions } from "./store-server.js";
import { portOf, send } from "./test-http.js";

// Issue 16 part 2 (who may write) and the review's defect 1 (a cross-origin PUT returned 201).
const sha = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");
const TOKEN = "t0ken-for-tests-0123456789";
let dir: string;
const servers: Server[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "snap86-store-access-"));
});

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await rm(dir, { recursive: true, force: true });
});

async function start(options: Partial<StoreServerOptions>): Promise<number> {
  const server = createStoreServer({ dir, ...options });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return portOf(server);
}

function put(port: number, body: Buffer, headers: Record<string, string> = {}) {
  return send(port, { method: "PUT", path: `/store/objects/${sha(body)}`, body, headers });
}

describe("who may write", () => {
  it("refuses writes when nothing is configured (closed by default)", async () => {
    const port = await start({});
    expect((await put(port, Buffer.from("a"))).status).toBe(401);
    expect((await send(port, { method: "POST", path: "/store/objects/missing", body: Buffer.from("[]") })).status).toBe(401);
  });

  it("reads stay open to everyone", async () => {
    const port = await start({ access: { uploadTokens: { [TOKEN]: 1000 } } });
    const body = Buffer.from("public ciphertext");
    expect((await put(port, body, { "X-Snap86-Upload-Token": TOKEN })).status).toBe(201);
    const got = await send(port, { method: "GET", path: `/store/objects/${sha(body)}`, headers: { Origin: "https://anywhere.test" } });
    expect(got.status).toBe(200);
    expect(got.headers["access-control-allow-origin"]).toBe("*");
  });

  it("accepts a known token and refuses an unknown one", async () => {
    const port = await start({ access: { uploadTokens: { [TOKEN]: 1000 } } });
    expect((await put(port, Buffer.from("b"), { "X-Snap86-Upload-Token": TOKEN })).status).toBe(201);
    expect((await put(port, Buffer.from("c"), { "X-Snap86-Upload-Token": "not-a-token-at-all" })).status).toBe(401);
  });

  it("keeps a quota per token", async () => {
    const port = await start({ access: { uploadTokens: { [TOKEN]: 150 } } });
    const headers = { "X-Snap86-Upload-Token": TOKEN };
    expect((await put(port, Buffer.alloc(100, 1), headers)).status).toBe(201);
    expect((await put(port, Buffer.alloc(100, 2), headers)).status).toBe(403);
    // A duplicate costs nothing.
    expect((await put(port, Buffer.alloc(100, 1), headers)).status).toBe(200);
  });

  it("refuses a cross-origin upload from a page that is not configured, even with open writes", async () => {
    const port = await start({ access: { openWrites: true } });
    const response = await put(port, Buffer.from("drive-by"), { Origin: "https://evil.test" });
    expect(response.status).toBe(403);
    const preflight = await send(port, {
      method: "OPTIONS",
      path: `/store/objects/${sha(Buffer.from("drive-by"))}`,
      headers: { Origin: "https://evil.test", "Access-Control-Request-Method": "PUT" },
    });
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("lets a configured origin write, with CORS for that origin only", async () => {
    const port = await start({ access: { allowedOrigins: ["https://app.test"] } });
    const response = await put(port, Buffer.from("from the app"), { Origin: "https://app.test" });
    expect(response.status).toBe(201);
    expect(response.headers["access-control-allow-origin"]).toBe("https://app.test");
    expect((await put(port, Buffer.from("from elsewhere"), { Origin: "https://other.test" })).status).toBe(403);
  });

  it("lets loopback pages write with open writes (development through the Vite proxy)", async () => {
    const port = await start({ access: { openWrites: true } });
    expect((await put(port, Buffer.from("dev"), { Origin: "http://127.0.0.1:4350" })).status).toBe(201);
  });

  it("rate-limits writers (429 with Retry-After)", async () => {
    const port = await start({ access: { openWrites: true, writeRatePerSecond: 0.001, writeBurst: 2 } });
    expect((await put(port, Buffer.from("1"))).status).toBe(201);
    expect((await put(port, Buffer.from("2"))).status).toBe(201);
    const third = await put(port, Buffer.from("3"));
    expect(third.status).toBe(429);
    expect(Number(third.headers["retry-after"])).toBeGreaterThan(0);
  });
});
