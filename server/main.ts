import { mkdir, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { createStoreServer, MiB } from "./store-server.js";
import { isLoopbackAddress } from "./access.js";
import { S3ObjectStore, type S3Options } from "./s3-object-store.js";

// Entry point for `npm run store`. Configuration comes from the environment only, so the same
// build runs in dev (behind Vite's /store proxy) and in tests.
function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

const port = numberFromEnv("SNAP86_STORE_PORT", 5188);
const dir = resolve(process.env.SNAP86_STORE_DIR || ".cache/store");
const maxObjectBytes = numberFromEnv("SNAP86_STORE_MAX_OBJECT_BYTES", 64 * MiB);
const maxManifestBytes = numberFromEnv("SNAP86_STORE_MAX_MANIFEST_BYTES", 8 * MiB);
const log = process.env.SNAP86_STORE_LOG === "1" ? (line: string) => console.log(line) : undefined;
const host = process.env.SNAP86_STORE_HOST || "127.0.0.1";
// Open writes only where nobody else can reach the store (development); anywhere else writing
// needs a token or a configured origin unless SNAP86_STORE_OPEN=1 says otherwise on purpose.
const openFlag = process.env.SNAP86_STORE_OPEN;
const openWrites = openFlag === undefined || openFlag === "" ? isLoopbackAddress(host) : openFlag === "1";
const allowedOrigins = (process.env.SNAP86_STORE_ORIGINS ?? "").split(",").map((o) => o.trim()).filter(Boolean);
const uploadTokens = parseTokens(process.env.SNAP86_STORE_TOKENS ?? "");

/** "token=quotaBytes,token2=quotaBytes" (a token without a quota gets 1 GiB). */
function parseTokens(raw: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of raw.split(",").map((e) => e.trim()).filter(Boolean)) {
    const [token, quota] = entry.split("=", 2);
    const bytes = quota === undefined ? 1024 * MiB : Number(quota);
    if (token.length < 16 || !Number.isSafeInteger(bytes) || bytes <= 0) throw new Error("SNAP86_STORE_TOKENS: tokens of 16+ characters, quotas in bytes");
    out[token] = bytes;
  }
  return out;
}

await mkdir(dir, { recursive: true });
// S3 backend: SNAP86_STORE_S3 names a JSON file {endpoint, accessKeyId, secretAccessKey, region}
// (what scripts/rgw/start.sh writes); objects then live in SNAP86_STORE_S3_BUCKET and readers are
// redirected to presigned URLs. Without it, the filesystem under SNAP86_STORE_DIR.
async function s3Backend(): Promise<{ objects: S3ObjectStore; manifests: S3ObjectStore } | Record<string, never>> {
  const path = process.env.SNAP86_STORE_S3;
  if (!path) return {};
  const config = { ...(JSON.parse(await readFile(path, "utf8")) as Omit<S3Options, "bucket">), bucket: process.env.SNAP86_STORE_S3_BUCKET || "snap86" };
  await S3ObjectStore.ensureBucket(config);
  return { objects: new S3ObjectStore(config, "objects"), manifests: new S3ObjectStore(config, "manifests") };
}

const server = createStoreServer({
  ...(await s3Backend()),
  dir,
  maxObjectBytes,
  maxManifestBytes,
  log,
  ...(process.env.SNAP86_STORE_RETAIN_DAYS ? { retainDays: numberFromEnv("SNAP86_STORE_RETAIN_DAYS", 365) } : {}),
  access: {
    openWrites,
    allowedOrigins,
    uploadTokens,
    writeRatePerSecond: numberFromEnv("SNAP86_STORE_RATE", 200),
    writeBurst: numberFromEnv("SNAP86_STORE_BURST", 2000),
  },
});
server.listen(port, host, () => {
  const writers = openWrites ? "open writes" : `writes need a token or one of ${allowedOrigins.length} origins`;
  console.log(`snap86 checkpoint store on http://${host}:${port}/store/ (data in ${dir}; ${writers})`);
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
  });
}
