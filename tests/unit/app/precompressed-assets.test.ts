// The build's .gz twins and the preview middleware that sends them: only built code and wasm,
// only to browsers that accept gzip, never for Range requests or paths outside the build.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { precompressedAssets } from "../../../scripts/lib/precompressed-assets";

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

const root = mkdtempSync(join(tmpdir(), "precompressed-"));
const dist = join(root, "dist");
const wasm = Buffer.alloc(50_000, 7);
let base = "";
let close = () => undefined as void;

beforeAll(async () => {
  for (const dir of ["assets", "generated", "guest"]) mkdirSync(join(dist, dir), { recursive: true });
  writeFileSync(join(dist, "assets", "app-1234.js"), "console.log('hi');".repeat(200));
  writeFileSync(join(dist, "assets", "tiny.js"), "1");
  writeFileSync(join(dist, "generated", "v86-lazy.wasm"), wasm);
  writeFileSync(join(dist, "guest", "bios.bin"), Buffer.alloc(50_000, 1));
  writeFileSync(join(root, "secret.js"), "secret".repeat(500));
  const plugin = precompressedAssets({ "Cross-Origin-Embedder-Policy": "require-corp" });
  (plugin.configResolved as (c: unknown) => void)({ root, build: { outDir: "dist" } });
  (plugin.closeBundle as () => void)();
  let mw: Middleware | undefined;
  (plugin.configurePreviewServer as (s: unknown) => void)({ middlewares: { use: (fn: Middleware) => (mw = fn) } });
  const server = createServer((req, res) => mw!(req, res, () => ((res.statusCode = 404), res.end("next"))));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => void server.close();
});
afterAll(() => close());

describe("precompressed assets", () => {
  it("writes .gz twins for built code and wasm only, not tiny files or guest files", () => {
    expect(existsSync(join(dist, "assets", "app-1234.js.gz"))).toBe(true);
    expect(existsSync(join(dist, "generated", "v86-lazy.wasm.gz"))).toBe(true);
    expect(existsSync(join(dist, "assets", "tiny.js.gz"))).toBe(false);
    expect(existsSync(join(dist, "guest", "bios.bin.gz"))).toBe(false);
  });

  it("sends the gzip twin with the right type and headers to a browser that accepts gzip", async () => {
    const r = await fetch(`${base}/generated/v86-lazy.wasm`, { headers: { "accept-encoding": "gzip" } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-encoding")).toBe("gzip");
    expect(r.headers.get("content-type")).toBe("application/wasm");
    expect(r.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
    expect(Number(r.headers.get("content-length"))).toBe(readFileSync(join(dist, "generated", "v86-lazy.wasm.gz")).byteLength);
    expect(Buffer.compare(Buffer.from(await r.arrayBuffer()), wasm)).toBe(0); // fetch decodes it
    const js = await fetch(`${base}/assets/app-1234.js`, { headers: { "accept-encoding": "gzip" } });
    expect(js.headers.get("cache-control")).toContain("immutable");
  });

  it("leaves everything else to the static server", async () => {
    const next = async (path: string, headers: Record<string, string>) => (await fetch(`${base}${path}`, { headers })).text();
    expect(await next("/generated/v86-lazy.wasm", { "accept-encoding": "identity" })).toBe("next");
    expect(await next("/generated/v86-lazy.wasm", { "accept-encoding": "gzip", range: "bytes=0-9" })).toBe("next");
    expect(await next("/guest/bios.bin", { "accept-encoding": "gzip" })).toBe("next");
    expect(await next("/assets/tiny.js", { "accept-encoding": "gzip" })).toBe("next");
    expect(await next("/assets/%2e%2e/%2e%2e/secret.js", { "accept-encoding": "gzip" })).toBe("next");
  });
});
