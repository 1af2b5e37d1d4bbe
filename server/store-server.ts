import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { FsObjectStore } from "./fs-object-store.js";
import { isObjectName, type ObjectStore } from "./object-store.js";
import { MISSING_QUERY, MISSING_QUERY_MAX_NAMES, STORE_PREFIX, UPLOAD_QUERY, UPLOAD_TOKEN_HEADER } from "../src/protocol/store-http.js";
import { parseRange } from "./range.js";
import { BodyRefused, verifiedBody } from "./verified-body.js";
import { Access, type AccessOptions } from "./access.js";
import { answered, readJsonQuery, refuseBody, reply } from "./replies.js";
import { presignedUploads } from "./presigned-uploads.js";
import { applyLimits, DEFAULT_LIMITS, isStorageFull, serverOptions, Slots, type ServerLimits } from "./limits.js";

export const MiB = 1024 * 1024;

export interface StoreServerOptions {
  /** Data directory; objects and manifests get one subfolder each. */
  dir: string;
  maxObjectBytes?: number;
  maxManifestBytes?: number;
  /** Size cap of a POST /store/objects/missing body (default: what the most names take). */
  maxQueryBytes?: number;
  /** Who may write; the default (nothing configured) refuses every write. */
  access?: AccessOptions;
  limits?: Partial<ServerLimits>;
  /** Called with one line per finished request; omit for silence. */
  log?: (line: string) => void;
  /** Objects and manifests unused this many days are removed at start and daily (docs/sharing.md). */
  retainDays?: number;
  /** Injected backends (tests, or a future S3 store); default to FsObjectStore under dir. */
  objects?: ObjectStore;
  manifests?: ObjectStore;
}

const PREFIX = STORE_PREFIX;
const MAX_QUERY_NAMES = MISSING_QUERY_MAX_NAMES;
// A quoted name and a comma each, plus brackets and slack for whitespace.
const DEFAULT_QUERY_BYTES = MAX_QUERY_NAMES * 67 + 1024;

// Every response carries these: the app page is cross-origin isolated (COEP require-corp), so
// even same-origin-through-proxy deployments must be able to embed our bytes. Reads are open to
// every origin (ciphertext named by its hash; the link is the capability); which origins may
// write is decided per request (READ_CORS vs Access.corsOrigin).
const COMMON_HEADERS: Record<string, string> = {
  "Access-Control-Allow-Methods": "GET, HEAD, PUT, POST, OPTIONS",
  "Access-Control-Allow-Headers": `Content-Type, Range, If-None-Match, ${UPLOAD_TOKEN_HEADER}`,
  "Access-Control-Expose-Headers": "Content-Length, Content-Range, ETag, Accept-Ranges",
  "Access-Control-Max-Age": "86400",
  "Cross-Origin-Resource-Policy": "cross-origin",
  "X-Content-Type-Options": "nosniff",
};

interface Collection {
  store: ObjectStore;
  maxBytes: number;
}

interface Context {
  collections: Record<string, Collection>;
  maxQueryBytes: number;
  access: Access;
  queries: Slots;
}

export function createStoreHandler(options: StoreServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const collections: Record<string, Collection> = {
    objects: {
      store: options.objects ?? new FsObjectStore(join(options.dir, "objects")),
      maxBytes: options.maxObjectBytes ?? 64 * MiB,
    },
    manifests: {
      store: options.manifests ?? new FsObjectStore(join(options.dir, "manifests")),
      maxBytes: options.maxManifestBytes ?? 8 * MiB,
    },
  };
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const context: Context = {
    collections,
    maxQueryBytes: options.maxQueryBytes ?? DEFAULT_QUERY_BYTES,
    access: new Access(options.access ?? {}),
    queries: new Slots(limits.maxConcurrentQueries),
  };
  const log = options.log;

  return (req, res) => {
    const started = Date.now();
    if (log) {
      res.once("close", () => {
        const aborted = res.writableFinished ? "" : " (aborted)";
        log(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms${aborted}`);
      });
    }
    for (const [key, value] of Object.entries(COMMON_HEADERS)) res.setHeader(key, value);
    setCors(req, res, context.access);
    route(req, res, context).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      reply(req, res, 500, { error: "internal store error" });
      log?.(`error: ${error instanceof Error ? error.stack : String(error)}`);
    });
  };
}

export function createStoreServer(options: StoreServerOptions): Server {
  const objects = options.objects ?? new FsObjectStore(join(options.dir, "objects"));
  const manifests = options.manifests ?? new FsObjectStore(join(options.dir, "manifests"));
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const server = createServer(serverOptions(limits), createStoreHandler({ ...options, objects, manifests }));
  if (options.retainDays !== undefined) scheduleCollection(server, [objects, manifests], options.retainDays, options.log);
  applyLimits(server, limits);
  // A client vanishing mid-request must cost us a socket, never the process.
  server.on("clientError", (_error, socket) => socket.destroy());
  return server;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Collection by last use: now, then once a day while the server runs. */
function scheduleCollection(server: Server, stores: ObjectStore[], retainDays: number, log?: (line: string) => void): void {
  const run = async (): Promise<void> => {
    const before = Date.now() - retainDays * DAY_MS;
    let removed = 0;
    for (const store of stores) removed += (await store.collect?.(before)) ?? 0;
    log?.(`collection: removed ${removed} objects unused for ${retainDays} days`);
  };
  void run().catch((e: unknown) => log?.(`collection failed: ${String(e)}`));
  const timer = setInterval(() => void run().catch((e: unknown) => log?.(`collection failed: ${String(e)}`)), DAY_MS);
  timer.unref();
  server.once("close", () => clearInterval(timer));
}

/** Reads (and their preflights) are open to any origin; writes only to the ones Access allows. */
function setCors(req: IncomingMessage, res: ServerResponse, access: Access): void {
  const preflightFor = req.method === "OPTIONS" ? req.headers["access-control-request-method"] : undefined;
  const reading = req.method === "GET" || req.method === "HEAD" || preflightFor === "GET" || preflightFor === "HEAD";
  if (reading) {
    res.setHeader("Access-Control-Allow-Origin", "*");
    return;
  }
  res.setHeader("Vary", "Origin");
  const origin = access.corsOrigin(req);
  if (origin !== null) res.setHeader("Access-Control-Allow-Origin", origin);
}

async function route(req: IncomingMessage, res: ServerResponse, context: Context): Promise<void> {
  const { collections } = context;
  // Work on the raw, undecoded path: a name is 64 lowercase hex chars, so any "%2f", "..",
  // or extra segment simply fails to match and can never reach the filesystem.
  const rawUrl = req.url ?? "";
  const path = rawUrl.split("?", 1)[0];
  if (!path.startsWith(PREFIX)) return reply(req, res, 404, { error: "not found" });
  const rest = path.slice(PREFIX.length);
  const slash = rest.indexOf("/");
  const collectionName = slash < 0 ? rest : rest.slice(0, slash);
  const name = slash < 0 ? "" : rest.slice(slash + 1);
  const collection = Object.hasOwn(collections, collectionName) ? collections[collectionName] : undefined;
  if (!collection) return reply(req, res, 404, { error: "not found" });

  if (rest === MISSING_QUERY || rest === UPLOAD_QUERY) {
    if (req.method === "OPTIONS") return preflight(res);
    if (req.method !== "POST") return methodNotAllowed(req, res, "POST, OPTIONS");
    const allowed = context.access.mayWrite(req);
    if (!allowed.ok) return refuseWrite(req, res, allowed);
    // Refused before the body is read: a held slot is the only place a query is buffered.
    if (!context.queries.take()) {
      res.setHeader("Retry-After", "1");
      return refuseBody(req, res, 503, "too many queries at once");
    }
    try {
      if (rest === UPLOAD_QUERY) return await presignedUploads(req, res, collection, context.access, allowed.token, context.maxQueryBytes);
      return await missing(req, res, collection.store, context.maxQueryBytes);
    } finally {
      context.queries.release();
    }
  }
  if (!isObjectName(name)) {
    return reply(req, res, 400, { error: "object names are 64 lowercase hex characters (sha256 of the body)" });
  }
  switch (req.method) {
    case "OPTIONS":
      return preflight(res);
    case "GET":
    case "HEAD":
      return read(req, res, collection.store, name);
    case "PUT": {
      const allowed = context.access.mayWrite(req);
      if (!allowed.ok) return refuseWrite(req, res, allowed);
      return write(req, res, collection, name, context.access, allowed.token);
    }
    default:
      return methodNotAllowed(req, res, "GET, HEAD, PUT, OPTIONS");
  }
}

async function read(req: IncomingMessage, res: ServerResponse, store: ObjectStore, name: string): Promise<void> {
  if (store.presignGet && req.method === "GET") {
    // The bucket serves the bytes (ranges included); the signed URL expires, so never cache it.
    res.setHeader("Location", await store.presignGet(name));
    res.setHeader("Cache-Control", "no-store");
    res.writeHead(307).end();
    return;
  }
  const size = await store.size(name);
  if (size === null) return reply(req, res, 404, { error: `no object ${name}` });
  const etag = `"${name}"`;
  // Immutable: the name is the hash of the bytes, so any cache may keep them forever.
  res.setHeader("ETag", etag);
  res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
  res.setHeader("Accept-Ranges", "bytes");
  const ifNoneMatch = req.headers["if-none-match"];
  if (ifNoneMatch !== undefined && ifNoneMatch.split(",").some((tag) => tag.trim() === etag || tag.trim() === "*")) {
    res.writeHead(304).end();
    return;
  }
  const wanted = parseRange(req.headers.range, size);
  if (wanted.kind === "unsatisfiable") {
    res.setHeader("Content-Range", `bytes */${size}`);
    return reply(req, res, 416, { error: `range not satisfiable for ${size} bytes` });
  }
  const range = wanted.kind === "range" ? wanted.range : undefined;
  const length = range ? range.end - range.start + 1 : size;
  res.setHeader("Content-Type", "application/octet-stream");
  res.setHeader("Content-Length", String(length));
  if (range) res.setHeader("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
  res.statusCode = range ? 206 : 200;
  if (req.method === "HEAD" || length === 0) {
    res.end();
    return;
  }
  // Collection is by last use: a link that is opened keeps its objects (at most a write a day).
  void store.touch?.(name).catch(() => undefined);
  const object = await store.get(name, range);
  if (!object) return reply(req, res, 404, { error: `no object ${name}` });
  try {
    await pipeline(object.body, res);
  } catch {
    // Client went away mid-download: pipeline already destroyed both ends.
  }
}

function refuseWrite(req: IncomingMessage, res: ServerResponse, refusal: { status: number; message: string; retryAfterSeconds?: number }): void {
  if (refusal.retryAfterSeconds !== undefined) res.setHeader("Retry-After", String(refusal.retryAfterSeconds));
  refuseBody(req, res, refusal.status, refusal.message);
}

async function write(req: IncomingMessage, res: ServerResponse, collection: Collection, name: string, access: Access, token?: string): Promise<void> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > collection.maxBytes) {
    return refuseBody(req, res, 413, `body exceeds ${collection.maxBytes} bytes`);
  }
  if (await collection.store.has(name)) {
    // Already verified when first stored; skip re-hashing the duplicate. Read the body to its end
    // before answering: an answer sent while the client (or a proxy in front) still writes makes
    // Node close the connection under it (EPIPE, which a proxy turns into a 502).
    if (!(await discardBody(req, collection.maxBytes))) return refuseBody(req, res, 413, `body exceeds ${collection.maxBytes} bytes`);
    await collection.store.touch?.(name).catch(() => undefined);
    return reply(req, res, 200, { name, status: "exists" });
  }
  // Without a declared length the worst case is charged up front; a duplicate (above) is free.
  const charged = declared !== undefined ? Number(declared) : collection.maxBytes;
  if (!access.withinQuota(token, charged)) return refuseBody(req, res, 403, "upload quota of this token is used up");
  let outcome: "created" | "exists";
  let received = 0;
  const counted = async function* (source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      received += chunk.byteLength;
      yield chunk;
    }
  };
  try {
    // destroyOnReturn false: when the store stops reading early (refusal, full disk) the socket
    // must survive so that the client gets our answer; a real client abort still fails the read.
    const body = req.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>;
    outcome = await collection.store.put(name, verifiedBody(counted(body), name, collection.maxBytes));
  } catch (error) {
    if (error instanceof BodyRefused) return refuseBody(req, res, error.status, error.message);
    if (isStorageFull(error)) return refuseBody(req, res, 507, "the store is out of space");
    if (req.destroyed || res.destroyed) return; // client aborted: the store discarded the partial write
    throw error;
  }
  if (outcome === "created") access.charge(token, received);
  reply(req, res, outcome === "created" ? 201 : 200, { name, status: outcome });
}

async function missing(req: IncomingMessage, res: ServerResponse, store: ObjectStore, maxBytes: number): Promise<void> {
  const names = await readJsonQuery(req, res, maxBytes, "a JSON array of object names");
  if (answered(names)) return;
  if (!Array.isArray(names) || names.length > MAX_QUERY_NAMES || !names.every((n) => typeof n === "string" && isObjectName(n))) {
    return reply(req, res, 400, { error: `body must be a JSON array of at most ${MAX_QUERY_NAMES} object names` });
  }
  const unique = [...new Set(names as string[])];
  const lacking: string[] = [];
  // Bounded fan-out: thousands of parallel stat() calls would exhaust file descriptors.
  for (let i = 0; i < unique.length; i += 64) {
    const batch = unique.slice(i, i + 64);
    const present = await Promise.all(batch.map((n) => store.has(n)));
    batch.forEach((n, j) => {
      if (!present[j]) lacking.push(n);
    });
    // A re-share asks about every object of its link: those present count as used.
    await Promise.all(batch.filter((_, j) => present[j]).map((n) => store.touch?.(n).catch(() => undefined)));
  }
  reply(req, res, 200, lacking);
}

function preflight(res: ServerResponse): void {
  res.writeHead(204).end();
}

function methodNotAllowed(req: IncomingMessage, res: ServerResponse, allow: string): void {
  res.setHeader("Allow", allow);
  reply(req, res, 405, { error: `method ${req.method} not allowed here` });
}

/** Reads and drops a request body; false as soon as it exceeds `maxBytes` (or fails). */
function discardBody(req: IncomingMessage, maxBytes: number): Promise<boolean> {
  return new Promise((resolve) => {
    let total = 0;
    const settle = (ok: boolean) => {
      req.off("data", onData).off("end", onEnd).off("error", onError);
      resolve(ok);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > maxBytes) settle(false);
    };
    const onEnd = () => settle(true);
    const onError = () => settle(false);
    req.on("data", onData).on("end", onEnd).on("error", onError);
  });
}
