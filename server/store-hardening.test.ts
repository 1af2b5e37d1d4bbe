import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStoreServer, type StoreServerOptions } from "./store-server.js";
import { FsObjectStore } from "./fs-object-store.js";
import type { ObjectStore } from "./object-store.js";
import { portOf, send } from "./test-http.js";

// The review's reproductions (issue 16, part 3: defects 2-5), each as a test that failed before.
const sha = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

let dir: string;
const servers: Server[] = [];
const sockets: Socket[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "snap86-store-hard-"));
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await rm(dir, { recursive: true, force: true });
});

async function start(options: Partial<StoreServerOptions> = {}): Promise<{ server: Server; port: number }> {
  const server = createStoreServer({ dir, access: { openWrites: true }, ...options });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: portOf(server) };
}

/** A raw connection that sent `head` and then holds its request open. */
async function holdOpen(port: number, head: string): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  socket.on("error", () => undefined);
  await once(socket, "connect");
  socket.write(head);
  return socket;
}

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => sha(Buffer.from(String(i))));

describe("missing queries are bounded", () => {
  it("refuses a query naming more than 5000 objects", async () => {
    const { port } = await start();
    const response = await send(port, { method: "POST", path: "/store/objects/missing", body: Buffer.from(JSON.stringify(names(5001))) });
    expect([400, 413]).toContain(response.status);
  });

  it("answers 5000 names", async () => {
    const { port } = await start();
    const response = await send(port, { method: "POST", path: "/store/objects/missing", body: Buffer.from(JSON.stringify(names(5000))) });
    expect(response.status).toBe(200);
  });

  it("refuses (413) a body over the default query size without buffering it", async () => {
    const { port } = await start();
    const response = await send(port, { method: "POST", path: "/store/objects/missing", body: Buffer.alloc(1024 * 1024, 0x20) });
    expect(response.status).toBe(413);
  });

  it("answers 503 to a query beyond the concurrent-query cap, before reading its body", async () => {
    const { server, port } = await start({ limits: { maxConcurrentQueries: 1 } });
    const arrived = once(server, "request");
    await holdOpen(port, "POST /store/objects/missing HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[");
    await arrived;
    const second = await send(port, { method: "POST", path: "/store/objects/missing", body: Buffer.from("[]") });
    expect(second.status).toBe(503);
    expect(second.headers["retry-after"]).toBeDefined();
  });
});

describe("connections are capped", () => {
  it("drops connections above maxConnections", async () => {
    const { server, port } = await start({ limits: { maxConnections: 2 } });
    for (let i = 0; i < 2; i++) {
      const accepted = once(server, "connection");
      await holdOpen(port, "GET /store/objects/");
      await accepted;
    }
    await expect(send(port, { method: "GET", path: `/store/objects/${sha(Buffer.from("x"))}` })).rejects.toThrow();
  });
});

describe("a full disk", () => {
  it("answers 507 when the store cannot write, instead of leaving the upload unanswered", async () => {
    const full: ObjectStore = {
      has: async () => false,
      size: async () => null,
      get: async () => null,
      async put(_name, body) {
        for await (const _chunk of body) throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
        throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
      },
    };
    const { port } = await start({ objects: full });
    const body = Buffer.alloc(64 * 1024, 1);
    const parts = [body.subarray(0, 1024), body.subarray(1024)];
    const response = await send(port, { method: "PUT", path: `/store/objects/${sha(body)}`, body: parts });
    expect(response.status).toBe(507);
  });
});

describe("slow uploads", () => {
  it("closes an upload that stops sending and keeps no temp file", { timeout: 10_000 }, async () => {
    const { port } = await start({ limits: { idleTimeoutMs: 300 } });
    const body = Buffer.alloc(4096, 9);
    const socket = await holdOpen(port, `PUT /store/objects/${sha(body)} HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n`);
    socket.write(body.subarray(0, 100));
    await once(socket, "close");
    await expect.poll(async () => (await readdir(join(dir, "objects", "tmp")).catch(() => [])).length).toBe(0);
  });

  it("closes a connection whose headers never finish", { timeout: 10_000 }, async () => {
    const { port } = await start({ limits: { headersTimeoutMs: 300, requestTimeoutMs: 300 } });
    const socket = await holdOpen(port, "GET /store/objects/ HTTP/1.1\r\nHost: x\r\n");
    await once(socket, "close");
  });
});

describe("durability", () => {
  it("sweeps temp files a killed upload left, at start", async () => {
    const tmp = join(dir, "objects", "tmp");
    await mkdir(tmp, { recursive: true });
    await writeFile(join(tmp, `${"a".repeat(64)}.deadbeef`), "half an upload");
    const { port } = await start();
    const body = Buffer.from("after restart");
    expect((await send(port, { method: "PUT", path: `/store/objects/${sha(body)}`, body })).status).toBe(201);
    expect(await readdir(tmp)).toEqual([]);
  });

  it("fsyncs the object's directory after the rename, before answering", async () => {
    const synced: string[] = [];
    class Recording extends FsObjectStore {
      protected override async syncDirectory(path: string): Promise<void> {
        synced.push(path);
        await super.syncDirectory(path);
      }
    }
    const { port } = await start({ objects: new Recording(join(dir, "objects")) });
    const body = Buffer.from("durable");
    expect((await send(port, { method: "PUT", path: `/store/objects/${sha(body)}`, body })).status).toBe(201);
    expect(synced).toContain(join(dir, "objects", sha(body).slice(0, 2)));
  });
});

describe("collection by last use", () => {
  it("removes objects unused for the retention period and keeps used ones", async () => {
    const { utimes } = await import("node:fs/promises");
    const { port } = await start();
    const old = Buffer.from("nobody opened this link for a year");
    const used = Buffer.from("opened last week");
    for (const body of [old, used]) expect((await send(port, { method: "PUT", path: `/store/objects/${sha(body)}`, body })).status).toBe(201);
    const yearAgo = new Date(Date.now() - 400 * 24 * 3600 * 1000);
    for (const body of [old, used]) await utimes(join(dir, "objects", sha(body).slice(0, 2), sha(body)), yearAgo, yearAgo);
    // A read marks `used` as used now.
    expect((await send(port, { method: "GET", path: `/store/objects/${sha(used)}` })).status).toBe(200);
    const store = new FsObjectStore(join(dir, "objects"));
    await expect.poll(async () => (await import("node:fs/promises")).stat(join(dir, "objects", sha(used).slice(0, 2), sha(used))).then((s) => s.mtimeMs > yearAgo.getTime())).toBe(true);
    expect(await store.collect(Date.now() - 365 * 24 * 3600 * 1000)).toBe(1);
    expect((await send(port, { method: "GET", path: `/store/objects/${sha(old)}` })).status).toBe(404);
    expect((await send(port, { method: "GET", path: `/store/objects/${sha(used)}` })).status).toBe(200);
  });
});
