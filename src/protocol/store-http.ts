/**
 * The checkpoint store's HTTP contract, shared by its client (src/share/store-client.ts) and its
 * server (server/store-server.ts, which imports this file): paths, collections and the
 * object-name rule. No imports, so the server's Node build can compile it as it is.
 */

/** Every store path starts with this; Vite proxies it to the store in dev and preview. */
export const STORE_PREFIX = "/store/";

/** Content-addressed objects (sealed chunks, packs) and share manifests. */
export const STORE_COLLECTIONS = ["objects", "manifests"] as const;
export type StoreCollection = (typeof STORE_COLLECTIONS)[number];

/** POST a JSON array of object names; the answer lists those the store lacks. */
export const MISSING_QUERY = "objects/missing";

/**
 * Most names one missing query may carry: the store stats each, so the bound keeps one query's
 * cost (and its buffered body, ~67 bytes a name) small; clients batch bigger lists.
 */
export const MISSING_QUERY_MAX_NAMES = 5000;

/**
 * POST a JSON array of {name, size}; a store whose objects live in a bucket answers
 * {urls: {name: presigned PUT URL}} (the client then sends each body straight to the bucket,
 * with the headers in PRESIGNED_PUT_HEADERS); a store that keeps the bytes itself answers 404.
 */
export const UPLOAD_QUERY = "objects/uploads";

/**
 * Headers a presigned PUT is signed with: the bucket checks the body's sha256 against the name
 * (so nobody can store other bytes under it) and refuses to overwrite (immutability).
 */
export function presignedPutHeaders(name: string): Record<string, string> {
  return { "x-amz-content-sha256": name, "if-none-match": "*" };
}

/** Header carrying an upload token (see docs/sharing.md, "Who may write"). */
export const UPLOAD_TOKEN_HEADER = "X-Snap86-Upload-Token";

/** Names are lowercase sha256 hex. Checked on the raw URL segment, so no decoding tricks. */
export const OBJECT_NAME = /^[0-9a-f]{64}$/;

export function isObjectName(name: string): boolean {
  return OBJECT_NAME.test(name);
}

/** Path of one object or manifest, relative to the store's base URL. */
export function storePath(collection: StoreCollection, name: string): string {
  return `${collection}/${name}`;
}
