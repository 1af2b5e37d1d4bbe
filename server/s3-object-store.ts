import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { AwsClient } from "aws4fetch";
import { isObjectName, type ByteRange, type ObjectStore, type StoredObject } from "./object-store.js";
import { presignedPutHeaders } from "../src/protocol/store-http.js";

/** Where the bucket is and who the store is to it (tested against Ceph RGW 16.2: scripts/rgw/). */
export interface S3Options {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
}

/** How long a presigned GET stays valid: long enough for a slow open, short enough to not leak. */
const PRESIGN_SECONDS = 900;

/**
 * Objects in an S3 bucket under `<prefix>/<name>` (path-style URLs, so any S3 implementation
 * works). Immutability is the bucket's: a put is conditional (`If-None-Match: *`; 412 means the
 * name is taken, which for a content address means "already there"). The body is verified by the
 * HTTP layer while it streams, so it is collected first and sent only once complete: a refused
 * body never reaches the bucket. Readers need not come through the store at all: presignGet.
 */
export class S3ObjectStore implements ObjectStore {
  private readonly aws: AwsClient;
  private readonly base: string;

  constructor(
    private readonly options: S3Options,
    private readonly prefix: string,
  ) {
    this.aws = new AwsClient({ accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, service: "s3", region: options.region ?? "us-east-1" });
    this.base = `${options.endpoint.replace(/\/+$/, "")}/${options.bucket}`;
  }

  /** Creates the bucket if it is not there (200, or 409 when this user already owns it). */
  static async ensureBucket(options: S3Options): Promise<void> {
    const aws = new AwsClient({ accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, service: "s3", region: options.region ?? "us-east-1" });
    const response = await aws.fetch(`${options.endpoint.replace(/\/+$/, "")}/${options.bucket}`, { method: "PUT" });
    await response.body?.cancel();
    if (!response.ok && response.status !== 409) throw new Error(`cannot create bucket ${options.bucket}: HTTP ${response.status}`);
    // Browsers read objects straight from the bucket (presigned redirects): any page may read,
    // as from the store itself; writes still go through the store.
    const cors =
      "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedMethod>PUT</AllowedMethod>" +
      "<AllowedHeader>*</AllowedHeader><ExposeHeader>Content-Range</ExposeHeader><ExposeHeader>Content-Length</ExposeHeader><ExposeHeader>ETag</ExposeHeader>" +
      "<MaxAgeSeconds>86400</MaxAgeSeconds></CORSRule></CORSConfiguration>";
    const md5 = createHash("md5").update(cors).digest("base64");
    const set = await aws.fetch(`${options.endpoint.replace(/\/+$/, "")}/${options.bucket}?cors=`, { method: "PUT", body: cors, headers: { "Content-MD5": md5 } });
    await set.body?.cancel();
    if (!set.ok) throw new Error(`cannot set the CORS rules of bucket ${options.bucket}: HTTP ${set.status}`);
  }

  private url(name: string): string {
    // Defence in depth, as in FsObjectStore: the key is built from the name.
    if (!isObjectName(name)) throw new Error(`invalid object name: ${name}`);
    return `${this.base}/${this.prefix}/${name}`;
  }

  async size(name: string): Promise<number | null> {
    const response = await this.aws.fetch(this.url(name), { method: "HEAD" });
    if (response.status === 404) return null;
    if (!response.ok) throw new Error(`S3 HEAD ${name}: HTTP ${response.status}`);
    return Number(response.headers.get("content-length"));
  }

  async has(name: string): Promise<boolean> {
    return (await this.size(name)) !== null;
  }

  async get(name: string, range?: ByteRange): Promise<StoredObject | null> {
    const headers: Record<string, string> = range ? { Range: `bytes=${range.start}-${range.end}` } : {};
    const response = await this.aws.fetch(this.url(name), { headers });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok || !response.body) throw new Error(`S3 GET ${name}: HTTP ${response.status}`);
    const total = /\/(\d+)$/.exec(response.headers.get("content-range") ?? "")?.[1];
    const size = Number(total ?? response.headers.get("content-length"));
    return { size, body: Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>) };
  }

  async put(name: string, body: AsyncIterable<Uint8Array>): Promise<"created" | "exists"> {
    const pieces: Uint8Array[] = [];
    for await (const piece of body) pieces.push(piece);
    const response = await this.aws.fetch(this.url(name), {
      method: "PUT",
      body: Buffer.concat(pieces),
      headers: { "If-None-Match": "*", "Content-Type": "application/octet-stream" },
    });
    await response.body?.cancel();
    if (response.status === 412) return "exists";
    if (response.status === 507 || response.status === 413) throw Object.assign(new Error("the bucket is out of space"), { code: "ENOSPC" });
    if (!response.ok) throw new Error(`S3 PUT ${name}: HTTP ${response.status}`);
    return "created";
  }

  /**
   * A URL that takes this object's body straight into the bucket. Signed with the body's sha256
   * (the name: RGW 16.2 answers XAmzContentSHA256Mismatch to other bytes), its length and
   * If-None-Match: * (the uploader must send those headers: src/protocol/store-http.ts).
   */
  async presignPut(name: string, size: number): Promise<string> {
    const signed = await this.aws.sign(`${this.url(name)}?X-Amz-Expires=${PRESIGN_SECONDS}`, {
      method: "PUT",
      headers: { ...presignedPutHeaders(name), "content-length": String(size) },
      aws: { signQuery: true, allHeaders: true },
    });
    return signed.url;
  }

  /** A URL anyone may GET the object from for a while: the store leaves the data path. */
  async presignGet(name: string): Promise<string> {
    const signed = await this.aws.sign(`${this.url(name)}?X-Amz-Expires=${PRESIGN_SECONDS}`, { method: "GET", aws: { signQuery: true } });
    return signed.url;
  }
}
