import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStoreServer } from "./store-server.js";
import { portOf, send } from "./test-http.js";
import { mulberry32, mutateString, type Prng } from "../tests/unit/share/prng.js";
import { FUZZ_RUNS, FUZZ_SEEDS } from "../tests/unit/fuzz/budget.js";

// Store requests from anyone: mutated request lines, headers and bodies. Every one must get an
// HTTP answer with a status the API defines (or a closed connection), the store must keep serving,
// and nothing may be written outside its collections. Issue 16, part 5.
const sha = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");
const STATUSES = new Set([200, 201, 204, 304, 400, 401, 403, 404, 405, 408, 411, 413, 414, 416, 429, 431, 500, 501, 503, 505, 507]);
const BODY = Buffer.from("fuzz body");
const NAME = sha(BODY);
const TEMPLATES = [
  `PUT /store/objects/${NAME} HTTP/1.1\r\nHost: x\r\nContent-Length: ${BODY.byteLength}\r\n\r\n${BODY.toString()}`,
  `GET /store/objects/${NAME} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n\r\n`,
  `POST /store/objects/missing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 70\r\n\r\n["${NAME}"]`,
  `OPTIONS /store/manifests/${NAME} HTTP/1.1\r\nHost: x\r\nOrigin: http://127.0.0.1:1\r\nAccess-Control-Request-Method: PUT\r\n\r\n`,
  `PUT /store/manifests/${NAME} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n${BODY.toString()}\r\n0\r\n\r\n`,
];

let dir: string;
let server: Server;
let port: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "snap86-store-fuzz-"));
  server = createStoreServer({ dir, access: { openWrites: true }, limits: { idleTimeoutMs: 2000, headersTimeoutMs: 2000, requestTimeoutMs: 2000 } });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  port = portOf(server);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

/** Sends raw bytes, half-closes, and resolves with the status of the first answer (0 if none). */
function raw(request: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0)));
    socket.end(request);
  });
}

function mutateRequest(rng: Prng, request: string): string {
  let out = request;
  for (let r = 1 + rng.int(3); r > 0; r--) out = mutateString(rng, out);
  return out;
}

describe.each(FUZZ_SEEDS)("store request fuzz (seed %i)", (seed) => {
  it("answers every mutated request with a defined status, and keeps serving", async () => {
    const rng = mulberry32(seed);
    const runs = Math.max(30, Math.floor(FUZZ_RUNS / 3));
    for (let i = 0; i < runs; i++) {
      const status = await raw(mutateRequest(rng, rng.pick(TEMPLATES)));
      if (status !== 0) expect(STATUSES, `status ${status}`).toContain(status);
    }
    expect((await send(port, { method: "PUT", path: `/store/objects/${NAME}`, body: BODY })).status).toBeLessThan(300);
    expect((await send(port, { method: "GET", path: `/store/objects/${NAME}` })).body.equals(BODY)).toBe(true);
    expect((await readdir(dir)).filter((n) => n !== "objects" && n !== "manifests")).toEqual([]);
  });
});
