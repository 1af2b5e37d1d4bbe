// The app's code and wasm travel gzip-compressed, as any static host or CDN would send them: the
// instrumented v86 wasm is 2.0 MB raw and 0.39 MB gzipped, ~320 ms at 50 Mbit/s on every cold
// page load and before a share link's guest can run. The build writes `<file>.gz` next to each
// file once (level 9); `vite preview` answers with it when the browser accepts gzip.
import { createReadStream, existsSync, readdirSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { extname, join, normalize, resolve, sep } from "node:path";
import { gzipSync } from "node:zlib";
import type { Plugin } from "vite";

const TYPES: Record<string, string> = {
  ".js": "text/javascript",
  ".css": "text/css",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".svg": "image/svg+xml",
};
/**
 * Only what the build makes. Guest files stay as they are: the disk is read with Range requests,
 * and firmware and kernel are small next to it or compressed already.
 */
const DIRS = ["assets", "generated"];
/** Below this a gzip member costs more than it saves. */
const MIN_BYTES = 1024;

function* files(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

/** `headers` go on every compressed answer (cross-origin isolation must hold for worker scripts too). */
export function precompressedAssets(headers: Record<string, string>): Plugin {
  let outDir = "dist";
  return {
    name: "snap86-precompressed-assets",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      for (const dir of DIRS) {
        for (const file of files(join(outDir, dir))) {
          if (!(extname(file) in TYPES) || statSync(file).size < MIN_BYTES) continue;
          writeFileSync(`${file}.gz`, gzipSync(readFileSync(file), { level: 9 }));
        }
      }
    },
    configurePreviewServer(server) {
      server.middlewares.use((req, res, next) => {
        if ((req.method !== "GET" && req.method !== "HEAD") || req.headers.range || !/\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) return next();
        let path: string;
        try {
          path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
        } catch {
          return next();
        }
        if (!DIRS.some((d) => path.startsWith(`/${d}/`))) return next();
        const file = normalize(join(outDir, path));
        const type = TYPES[extname(file)];
        if (!type || !file.startsWith(outDir + sep) || !existsSync(`${file}.gz`)) return next();
        for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
        res.setHeader("Content-Type", type);
        res.setHeader("Content-Encoding", "gzip");
        res.setHeader("Vary", "Accept-Encoding");
        res.setHeader("Content-Length", statSync(`${file}.gz`).size);
        // Hashed names under assets/ never change; generated/ keeps its name across builds.
        res.setHeader("Cache-Control", path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
        if (req.method === "HEAD") return void res.end();
        createReadStream(`${file}.gz`).pipe(res);
      });
    },
  };
}
