import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createStoreServer } from "./store-server.js";
import { portOf, send, type RawResponse } from "./test-http.js";

const sha = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");
const json = (response: RawResponse): unknown => JSON.parse(response.body.toString("utf8"));
const LIMIT = 4096;

let dir: string;
let server: Server;
let port: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "snap86-store-test-"));
  server = createStoreServer({ dir, maxObjectBytes: LIMIT, maxManifestBytes: 512, maxQueryBytes: 2048, access: { openWrites: true } });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = portOf(server);
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

async function putObject(body: Buffer, name = sha(body), collection = "objects"): Promise<RawResponse> {
  return send(port, { method: "PUT", path: `/store/${collection}/${name}`, body });
}

async function storedFiles(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(at, entry.name));
      else found.push(join(at, entry.name).slice(dir.length + 1));
    }
  };
  await walk(dir);
  return found.sort();
}

describe("PUT objects", () => {
  it("creates (201), then re-put of the same bytes is a no-op (200)", async () => {
    const body = Buffer.from("checkpoint chunk");
    const first = await putObject(body);
    expect(first.status).toBe(201);
    expect(json(first)).toEqual({ name: sha(body), status: "created" });
    const again = await putObject(body);
    expect(again.status).toBe(200);
    expect(json(again)).toEqual({ name: sha(body), status: "exists" });
    expect(await storedFiles()).toEqual([join("objects", sha(body).slice(0, 2), sha(body))]);
  });

  it("answers a duplicate only once its body is read: a writer still sending is not cut off", async () => {
    const body = Buffer.alloc(LIMIT, 7);
    expect((await putObject(body)).status).toBe(201);
    // Head, then the rest after a pause: an early answer would close the socket mid-body (EPIPE).
    const answer = await new Promise<{ status: number; sentAll: boolean; writeError?: Error }>((resolve) => {
      let writeError: Error | undefined;
      let sentAll = false;
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(`PUT /store/objects/${sha(body)} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.byteLength}\r\n\r\n`);
        socket.write(body.subarray(0, 16));
        setTimeout(() => socket.write(body.subarray(16), (e) => ((writeError = e ?? undefined), (sentAll = !e))), 200);
      });
      let text = "";
      socket.on("data", (d: Buffer) => {
        text += d.toString("latin1");
        if (text.includes("\r\n\r\n")) {
          // The answer came: it must not have come before the whole body was sent.
          resolve({ status: Number(text.split(" ")[1]), sentAll, writeError });
          socket.destroy();
        }
      });
      socket.on("error", (e) => resolve({ status: 0, sentAll, writeError: e }));
    });
    expect(answer).toEqual({ status: 200, sentAll: true, writeError: undefined });
  });

  it("accepts a chunked body and an empty body", async () => {
    const parts = [Buffer.from("a".repeat(1000)), Buffer.from("b".repeat(1000))];
    const name = sha(Buffer.concat(parts));
    expect((await send(port, { method: "PUT", path: `/store/objects/${name}`, body: parts })).status).toBe(201);
    expect((await putObject(Buffer.alloc(0))).status).toBe(201);
  });

  it("refuses (400) a body whose sha256 is not the name, and keeps nothing", async () => {
    const response = await putObject(Buffer.from("real bytes"), sha(Buffer.from("other bytes")));
    expect(response.status).toBe(400);
    expect(String((json(response) as { error: string }).error)).toMatch(/sha256/);
    expect(await storedFiles()).toEqual([]);
  });

  it("refuses (413) a declared Content-Length over the limit", async () => {
    const body = Buffer.alloc(LIMIT + 1, 7);
    const response = await putObject(body);
    expect(response.status).toBe(413);
    expect(await storedFiles()).toEqual([]);
  });

  it("accepts exactly the limit", async () => {
    expect((await putObject(Buffer.alloc(LIMIT, 7))).status).toBe(201);
  });

  it("refuses (413) a chunked body that grows over the limit while streaming", async () => {
    const parts = [Buffer.alloc(LIMIT / 2, 1), Buffer.alloc(LIMIT / 2, 2), Buffer.alloc(16, 3)];
    const name = sha(Buffer.concat(parts));
    const response = await send(port, { method: "PUT", path: `/store/objects/${name}`, body: parts });
    expect(response.status).toBe(413);
    expect(await storedFiles()).toEqual([]);
  });

  it("has a separate, smaller limit for manifests", async () => {
    expect((await putObject(Buffer.alloc(513, 1), undefined, "manifests")).status).toBe(413);
    expect((await putObject(Buffer.alloc(512, 1), undefined, "manifests")).status).toBe(201);
  });

  it("survives a client that aborts mid-upload, keeping no partial object", async () => {
    const name = sha(Buffer.from("never finished"));
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(`PUT /store/objects/${name} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n`);
        socket.write("partial", () => setTimeout(() => socket.destroy(), 50));
      });
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await storedFiles()).toEqual([]);
    expect((await putObject(Buffer.from("still alive"))).status).toBe(201);
  });

  it("stores concurrent puts of the same object once, intact", async () => {
    const body = Buffer.alloc(3000, 9);
    const statuses = (await Promise.all([1, 2, 3, 4].map(() => putObject(body)))).map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 201)).toBe(true);
    expect(statuses).toContain(201);
    const got = await send(port, { method: "GET", path: `/store/objects/${sha(body)}` });
    expect(sha(got.body)).toBe(sha(body));
  });
});

describe("names and paths", () => {
  const valid = sha(Buffer.from("x"));
  it.each([
    ["uppercase hex", valid.toUpperCase()],
    ["63 chars", valid.slice(1)],
    ["65 chars", `${valid}0`],
    ["non-hex", `${valid.slice(1)}g`],
    ["encoded traversal", "..%2f..%2f..%2fetc%2fpasswd"],
    ["double-encoded traversal", "..%252f..%252fetc%252fpasswd"],
    ["encoded dots", `%2e%2e%2f${valid}`],
    ["plain traversal", `../../../etc/passwd`],
    ["traversal to another collection", `../manifests/${valid}`],
    ["trailing slash", `${valid}/`],
    ["extra segment", `${valid}/x`],
    ["empty", ""],
    ["encoded name", valid.replace(/^./, (c) => `%${c.charCodeAt(0).toString(16)}`)],
  ])("refuses %s with 400 on GET and PUT", async (_label, name) => {
    const get = await send(port, { method: "GET", path: `/store/objects/${name}` });
    expect(get.status).toBe(400);
    const put = await send(port, { method: "PUT", path: `/store/manifests/${name}`, body: Buffer.from("x") });
    expect(put.status).toBe(400);
    expect(await storedFiles()).toEqual([]);
  });

  it("answers 404 outside the known collections", async () => {
    for (const path of ["/", "/store", "/store/", "/store/blobs/" + valid, "/objects/" + valid, "/store/__proto__/" + valid]) {
      expect((await send(port, { method: "GET", path })).status, path).toBe(404);
    }
  });

  it("answers 405 with Allow for other methods", async () => {
    const del = await send(port, { method: "DELETE", path: `/store/objects/${valid}` });
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe("GET, HEAD, PUT, OPTIONS");
    const post = await send(port, { method: "POST", path: `/store/manifests/${valid}`, body: Buffer.from("x") });
    expect(post.status).toBe(405);
    const getMissing = await send(port, { method: "GET", path: "/store/objects/missing" });
    expect(getMissing.status).toBe(405);
    expect(getMissing.headers.allow).toBe("POST, OPTIONS");
  });

  it("keeps objects and manifests apart", async () => {
    const body = Buffer.from("manifest?");
    await putObject(body);
    expect((await send(port, { method: "GET", path: `/store/manifests/${sha(body)}` })).status).toBe(404);
  });
});

describe("GET and HEAD", () => {
  const body = Buffer.from("0123456789");
  const name = sha(body);
  const path = `/store/objects/${name}`;

  it("serves the bytes with immutable caching, ETag and CORS/CORP headers", async () => {
    await putObject(body);
    const got = await send(port, { method: "GET", path });
    expect(got.status).toBe(200);
    expect(got.body.equals(body)).toBe(true);
    expect(got.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(got.headers.etag).toBe(`"${name}"`);
    expect(got.headers["accept-ranges"]).toBe("bytes");
    expect(got.headers["access-control-allow-origin"]).toBe("*");
    expect(got.headers["cross-origin-resource-policy"]).toBe("cross-origin");
    expect(got.headers["content-length"]).toBe("10");
  });

  it("HEAD gives the size without a body", async () => {
    await putObject(body);
    const head = await send(port, { method: "HEAD", path });
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe("10");
    expect(head.body.byteLength).toBe(0);
  });

  it("answers 304 to a matching If-None-Match", async () => {
    await putObject(body);
    const cached = await send(port, { method: "GET", path, headers: { "If-None-Match": `"${name}"` } });
    expect(cached.status).toBe(304);
    expect(cached.body.byteLength).toBe(0);
  });

  it("serves ranges with 206 and Content-Range", async () => {
    await putObject(body);
    const cases: Array<[string, string, string]> = [
      ["bytes=2-5", "2345", "bytes 2-5/10"],
      ["bytes=7-", "789", "bytes 7-9/10"],
      ["bytes=-2", "89", "bytes 8-9/10"],
      ["bytes=9-100", "9", "bytes 9-9/10"],
    ];
    for (const [range, expected, contentRange] of cases) {
      const got = await send(port, { method: "GET", path, headers: { Range: range } });
      expect(got.status, range).toBe(206);
      expect(got.body.toString(), range).toBe(expected);
      expect(got.headers["content-range"], range).toBe(contentRange);
      expect(got.headers["content-length"], range).toBe(String(expected.length));
    }
  });

  it("answers 416 with the size to ranges it cannot satisfy", async () => {
    await putObject(body);
    for (const range of ["bytes=10-", "bytes=5-2", "bytes=0-1,4-5", "lines=1-2", "bytes=x-"]) {
      const got = await send(port, { method: "GET", path, headers: { Range: range } });
      expect(got.status, range).toBe(416);
      expect(got.headers["content-range"], range).toBe("bytes */10");
    }
  });

  it("answers 404 (not cacheable) for an absent object", async () => {
    for (const method of ["GET", "HEAD"]) {
      const got = await send(port, { method, path: `/store/objects/${sha(Buffer.from("absent"))}` });
      expect(got.status).toBe(404);
      expect(got.headers["cache-control"]).toBeUndefined();
    }
  });

  it("survives a client that aborts mid-download", async () => {
    const big = Buffer.alloc(LIMIT, 5);
    await putObject(big);
    await new Promise<void>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(`GET /store/objects/${sha(big)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      });
      socket.once("data", () => {
        socket.destroy();
        resolve();
      });
    });
    expect((await send(port, { method: "GET", path: `/store/objects/${sha(big)}` })).body.equals(big)).toBe(true);
  });

  it("serves manifests the same way", async () => {
    const manifest = Buffer.from("sealed manifest");
    expect((await putObject(manifest, undefined, "manifests")).status).toBe(201);
    const got = await send(port, { method: "GET", path: `/store/manifests/${sha(manifest)}` });
    expect(got.status).toBe(200);
    expect(got.body.equals(manifest)).toBe(true);
    expect((await putObject(manifest, sha(Buffer.from("not it")), "manifests")).status).toBe(400);
  });
});

describe("POST /store/objects/missing", () => {
  const query = (body: string) =>
    send(port, { method: "POST", path: "/store/objects/missing", headers: { "Content-Type": "application/json" }, body: Buffer.from(body) });

  it("lists exactly the absent names, deduplicated, in order", async () => {
    const present = Buffer.from("present");
    await putObject(present);
    const absentA = sha(Buffer.from("a"));
    const absentB = sha(Buffer.from("b"));
    const response = await query(JSON.stringify([absentB, sha(present), absentA, absentB]));
    expect(response.status).toBe(200);
    expect(json(response)).toEqual([absentB, absentA]);
    expect(json(await query("[]"))).toEqual([]);
  });

  it.each([
    ["not JSON", "{"],
    ["an object", "{}"],
    ["non-strings", "[1]"],
    ["bad names", '["../x"]'],
  ])("refuses %s with 400", async (_label, body) => {
    expect((await query(body)).status).toBe(400);
  });

  it("refuses (413) an oversized query", async () => {
    expect((await query(JSON.stringify(Array(40).fill(sha(Buffer.from("z")))))).status).toBe(413);
  });
});

describe("CORS preflight", () => {
  it("answers OPTIONS with the allowed methods and headers", async () => {
    const response = await send(port, {
      method: "OPTIONS",
      path: `/store/objects/${sha(Buffer.from("p"))}`,
      headers: { Origin: "http://elsewhere.test", "Access-Control-Request-Method": "PUT" },
    });
    expect(response.status).toBe(204);
    expect(response.headers["access-control-allow-methods"]).toContain("PUT");
    expect(response.headers["access-control-allow-headers"]).toContain("Range");
  });
});
