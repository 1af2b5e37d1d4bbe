import type { Readable } from "node:stream";

/** Inclusive byte range, already checked against the object's size. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredObject {
  size: number;
  body: Readable;
}

/**
 * Where immutable, content-addressed blobs live. The HTTP layer validates names and verifies
 * hashes before/while calling these, so an implementation only has to store bytes atomically:
 * a put whose body iterable throws must leave nothing visible. Kept this narrow so an
 * S3-compatible backend (multipart upload + abort) can implement it later.
 */
export interface ObjectStore {
  has(name: string): Promise<boolean>;
  /** Size in bytes, or null when absent. */
  size(name: string): Promise<number | null>;
  /** Null when absent. The range must lie inside the object. */
  get(name: string, range?: ByteRange): Promise<StoredObject | null>;
  /**
   * Stores the body under name unless already present. If iterating the body throws, the
   * partial write is discarded and the error is rethrown unchanged.
   */
  put(name: string, body: AsyncIterable<Uint8Array>): Promise<"created" | "exists">;
  /** Marks the object as used now (collection is by last use; see docs/sharing.md). */
  touch?(name: string): Promise<void>;
  /** Removes objects unused since `before` (ms since epoch); returns how many went. */
  collect?(before: number): Promise<number>;
  /**
   * A URL the object can be read from without the store (a presigned GET): the store answers
   * reads with a redirect there and stays out of the data path.
   */
  presignGet?(name: string): Promise<string>;
  /** A URL that accepts exactly this body (by sha256 = name, and size) once, straight to storage. */
  presignPut?(name: string, size: number): Promise<string>;
}

// The name rule is the client's too: one definition in the store's HTTP contract.
export { isObjectName, OBJECT_NAME } from "../src/protocol/store-http.js";
