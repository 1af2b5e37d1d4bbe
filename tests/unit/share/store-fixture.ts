import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AwsClient } from "aws4fetch";
import { createStoreServer, type StoreServerOptions } from "../../../server/store-server.js";
import { S3ObjectStore, type S3Options } from "../../../server/s3-object-store.js";

/**
 * A real store on an ephemeral 127.0.0.1 port. Its backend is the filesystem (a throwaway data
 * dir), or, with SNAP86_TEST_S3 naming the s3.json that scripts/rgw/start.sh wrote, a fresh
 * bucket on that S3 endpoint: the same share tests then run against real object storage.
 */
export interface RunningStore {
  dir: string;
  baseUrl: string;
  backend: "fs" | "s3";
  /** Replaces a stored object's bytes behind the store's back (damage, a hostile store). */
  tamper(collection: "objects" | "manifests", name: string, bytes: Uint8Array | string): Promise<void>;
  /** A stored object's bytes as the backend holds them. */
  raw(collection: "objects" | "manifests", name: string): Promise<Uint8Array>;
  stop(): Promise<void>;
}

function s3Config(): S3Options | undefined {
  const path = process.env.SNAP86_TEST_S3;
  if (!path) return undefined;
  const c = JSON.parse(readFileSync(path, "utf8")) as Omit<S3Options, "bucket">;
  return { ...c, bucket: `snap86-test-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}` };
}

export async function startStore(options: Partial<StoreServerOptions> = {}): Promise<RunningStore> {
  const dir = await mkdtemp(join(tmpdir(), "snap86-share-test-"));
  const s3 = s3Config();
  if (s3) await S3ObjectStore.ensureBucket(s3);
  const backends = s3 ? { objects: new S3ObjectStore(s3, "objects"), manifests: new S3ObjectStore(s3, "manifests") } : {};
  const server: Server = createStoreServer({ dir, access: { openWrites: true }, ...backends, ...options });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const aws = s3 ? new AwsClient({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, service: "s3", region: s3.region ?? "us-east-1" }) : undefined;
  const s3Url = (collection: string, name: string) => `${s3!.endpoint}/${s3!.bucket}/${collection}/${name}`;
  const fsPath = (collection: string, name: string) => join(dir, collection, name.slice(0, 2), name);
  return {
    dir,
    baseUrl: `http://127.0.0.1:${port}/store`,
    backend: s3 ? "s3" : "fs",
    async tamper(collection, name, bytes) {
      if (aws) {
        const response = await aws.fetch(s3Url(collection, name), { method: "PUT", body: typeof bytes === "string" ? bytes : Buffer.from(bytes) });
        if (!response.ok) throw new Error(`tamper: HTTP ${response.status}`);
        return;
      }
      await mkdir(join(dir, collection, name.slice(0, 2)), { recursive: true });
      await writeFile(fsPath(collection, name), bytes);
    },
    async raw(collection, name) {
      if (aws) return new Uint8Array(await (await aws.fetch(s3Url(collection, name))).arrayBuffer());
      return new Uint8Array(await readFile(fsPath(collection, name)));
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
