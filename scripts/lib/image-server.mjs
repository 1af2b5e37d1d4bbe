// Serves the test images (test-images.mjs) on their own origin, as a user's image host would:
// CORS (Access-Control-Allow-Origin, Range allowed, Content-Range exposed) and HTTP Range.
// Paths choose a worse server: /no-range/<name> answers every request whole (200),
// /no-cors/<name> sends no CORS headers; any folders before those (/w1/no-range/<name>) only
// name the asker. GET /_log lists the requests served (path, range, status, bytes) so tests can
// tell how an image was read; POST /_log empties it; ?scope=/w1/ limits either to paths under
// it, so parallel test workers each read and clear only their own requests.
//   node scripts/lib/image-server.mjs --port N [--dir DIR]
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { basename, join } from "node:path";
import { TEST_IMAGES_DIR } from "./test-images.mjs";

export function startImageServer({ port, dir = TEST_IMAGES_DIR, host = "127.0.0.1" }) {
  const log = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const cors = !url.pathname.includes("/no-cors/");
    if (cors) {
      res.setHeader("Access-Control-Allow-Origin", "*");
      res.setHeader("Access-Control-Allow-Headers", "Range");
      res.setHeader("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges");
    }
    if (url.pathname === "/_log") {
      const scope = url.searchParams.get("scope") ?? "/";
      const mine = (entry) => entry.path.startsWith(scope);
      if (req.method === "POST") {
        const others = log.filter((entry) => !mine(entry));
        log.length = 0;
        log.push(...others);
      }
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(log.filter(mine)));
      return;
    }
    if (req.method === "OPTIONS") return void res.writeHead(204).end();
    const ranges = !url.pathname.includes("/no-range/");
    const name = basename(url.pathname);
    let size;
    let modified;
    try {
      const stat = statSync(join(dir, name));
      size = stat.size;
      modified = stat.mtime.toUTCString();
    } catch {
      log.push({ path: url.pathname, status: 404, bytes: 0 });
      return void res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
    }
    const m = ranges ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "") : null;
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (m) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      if (start >= size || start > end) {
        res.writeHead(416, { "Content-Range": `bytes */${size}` }).end();
        return;
      }
      status = 206;
      res.setHeader("Content-Range", `bytes ${start}-${end}/${size}`);
    }
    if (ranges) res.setHeader("Accept-Ranges", "bytes");
    // Last-Modified, as static servers send it: the app's host cache keys a URL image by it.
    res.writeHead(status, { "Content-Type": "application/octet-stream", "Content-Length": end - start + 1, "Cache-Control": "no-store", "Last-Modified": modified });
    log.push({ path: url.pathname, range: req.headers.range ?? null, status, bytes: req.method === "HEAD" ? 0 : end - start + 1 });
    if (req.method === "HEAD") return void res.end();
    createReadStream(join(dir, name), { start, end }).pipe(res);
  });
  // The same log for a caller in this process (bench:images): the requests served so far.
  server.served = log;
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const args = process.argv.slice(2);
  const port = Number(args[args.indexOf("--port") + 1]);
  const dir = args.includes("--dir") ? args[args.indexOf("--dir") + 1] : undefined;
  const { buildTestImages } = await import("./test-images.mjs");
  if (!dir) buildTestImages();
  await startImageServer({ port, dir });
  console.log(`test images on http://127.0.0.1:${port}/`);
}
