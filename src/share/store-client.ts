import { forEachLimited } from "../async/for-each-limited";
import { sha256Hex } from "./crypto";
import { ownedBytes } from "./encoding";
import { MISSING_QUERY, MISSING_QUERY_MAX_NAMES, presignedPutHeaders, storePath, UPLOAD_QUERY, UPLOAD_TOKEN_HEADER } from "../protocol/store-http";
import { ShareError, shareErrors } from "./errors";

/** Client for the checkpoint store (server/store-server.ts); every failure is a ShareError. */

export interface StoreClientOptions {
  /** Defaults to "/store", which Vite proxies to the store in dev and preview. */
  readonly baseUrl?: string;
  readonly fetch?: typeof globalThis.fetch;
  /** Extra attempts after a network error or a proxy's 502-504 (default 2). */
  readonly retries?: number;
  /** Sent with writes when the store requires one (docs/sharing.md, "Who can write"). */
  readonly uploadToken?: string;
}

export interface UploadItem {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface UploadProgress {
  readonly totalObjects: number;
  readonly totalBytes: number;
  /** Already in the store (re-share): never sent. */
  readonly skippedObjects: number;
  readonly skippedBytes: number;
  readonly uploadedObjects: number;
  readonly uploadedBytes: number;
}

export interface UploadOptions {
  readonly concurrency?: number;
  readonly onProgress?: (progress: UploadProgress) => void;
  readonly signal?: AbortSignal;
}

export interface ByteRangeRequest {
  /** Inclusive. */
  readonly start: number;
  readonly end: number;
}

const MISSING_BATCH = MISSING_QUERY_MAX_NAMES;
/** The store's own limits (server/store-server.ts): nothing larger is ever legitimately served. */
export const MAX_OBJECT_BYTES = 64 * 1024 * 1024;
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
/** A missing-query answer names at most the names asked: ~67 bytes each. */
const MAX_MISSING_ANSWER_BYTES = MISSING_BATCH * 70 + 1024;
const RETRY_BASE_MS = 200;

export class StoreClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly retries: number;
  private readonly writeHeaders: Record<string, string>;

  constructor(options: StoreClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? "/store").replace(/\/+$/, "");
    // Bound so a detached `fetch` is never called with the wrong `this` (browsers throw).
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.retries = Math.max(0, Math.floor(options.retries ?? 2));
    this.writeHeaders = options.uploadToken ? { [UPLOAD_TOKEN_HEADER]: options.uploadToken } : {};
  }

  /** Names from `names` that the store lacks, in first-seen order. */
  async missing(names: readonly string[], signal?: AbortSignal): Promise<string[]> {
    const unique = [...new Set(names)];
    const lacking: string[] = [];
    for (let i = 0; i < unique.length; i += MISSING_BATCH) {
      const response = await this.request(MISSING_QUERY, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...this.writeHeaders },
        body: JSON.stringify(unique.slice(i, i + MISSING_BATCH)),
        signal,
      });
      const answer: unknown = await this.readJson(response, MAX_MISSING_ANSWER_BYTES);
      if (!Array.isArray(answer) || !answer.every((n) => typeof n === "string")) {
        throw shareErrors.storeRefused(response.status, "unexpected answer to the missing-objects query");
      }
      lacking.push(...(answer as string[]));
    }
    return lacking;
  }

  /**
   * Uploads the items the store lacks, `concurrency` at a time. Progress counts skipped
   * objects too, so a re-share reports completion immediately. Stops at the first failure.
   */
  async uploadObjects(items: readonly UploadItem[], options: UploadOptions = {}): Promise<UploadProgress> {
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
    const byName = new Map(items.map((item) => [item.name, item]));
    const lacking = new Set(await this.missing([...byName.keys()], options.signal));
    const queue = [...byName.values()].filter((item) => lacking.has(item.name));
    let progress: UploadProgress = {
      totalObjects: byName.size,
      totalBytes: [...byName.values()].reduce((n, item) => n + item.bytes.byteLength, 0),
      skippedObjects: byName.size - queue.length,
      skippedBytes: [...byName.values()].reduce((n, item) => n + (lacking.has(item.name) ? 0 : item.bytes.byteLength), 0),
      uploadedObjects: 0,
      uploadedBytes: 0,
    };
    options.onProgress?.(progress);
    const direct = await this.uploadUrls(queue, options.signal);
    await forEachLimited(
      queue,
      concurrency,
      async (item) => {
        const url = direct?.[item.name];
        if (url) await this.putPresigned(url, item, options.signal);
        else await this.putObject(item.name, item.bytes, options.signal);
        progress = {
          ...progress,
          uploadedObjects: progress.uploadedObjects + 1,
          uploadedBytes: progress.uploadedBytes + item.bytes.byteLength,
        };
        options.onProgress?.(progress);
      },
      options.signal,
    );
    return progress;
  }

  /**
   * Presigned PUT URLs when the store's objects live in a bucket (the bytes then skip the store);
   * undefined when the store takes uploads itself (it answers 404).
   */
  private async uploadUrls(items: readonly UploadItem[], signal?: AbortSignal): Promise<Record<string, string> | undefined> {
    if (items.length === 0) return undefined;
    const urls: Record<string, string> = {};
    for (let i = 0; i < items.length; i += MISSING_BATCH) {
      const body = JSON.stringify(items.slice(i, i + MISSING_BATCH).map((item) => ({ name: item.name, size: item.bytes.byteLength })));
      let response: Response;
      try {
        response = await this.request(UPLOAD_QUERY, { method: "POST", headers: { "Content-Type": "application/json", ...this.writeHeaders }, body, signal });
      } catch (error) {
        if (error instanceof ShareError && error.code === "store-refused" && error.detail?.status === 404) return undefined;
        throw error;
      }
      const answer = (await this.readJson(response, MAX_MISSING_ANSWER_BYTES * 20)) as { urls?: unknown } | null;
      if (typeof answer?.urls !== "object" || answer.urls === null) throw shareErrors.storeRefused(response.status, "unexpected answer to the upload query");
      for (const [name, url] of Object.entries(answer.urls)) if (typeof url === "string" && /^https?:\/\//.test(url)) urls[name] = url;
    }
    return urls;
  }

  /** One body straight to the bucket; 412 (the name is taken: same content) counts as done. */
  private async putPresigned(url: string, item: UploadItem, signal?: AbortSignal): Promise<void> {
    for (let retry = 0; ; retry++) {
      let response: Response;
      try {
        response = await this.fetchImpl(url, { method: "PUT", body: ownedBytes(item.bytes), headers: presignedPutHeaders(item.name), signal });
      } catch (error) {
        if (isAbort(error)) throw error;
        if (retry >= this.retries) throw shareErrors.storeUnreachable(error);
        await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 4 ** retry));
        continue;
      }
      await this.drain(response);
      if (response.ok || response.status === 412) return;
      throw shareErrors.storeRefused(response.status, `the bucket refused ${item.name}`);
    }
  }

  putObject(name: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.put(storePath("objects", name), bytes, signal);
  }

  putManifest(name: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.put(storePath("manifests", name), bytes, signal);
  }

  /**
   * Whole objects are checked against their name (sha256) before being returned. A range
   * cannot be checked on its own; its consumer must authenticate what it builds from it.
   */
  async getObject(
    name: string,
    options: { range?: ByteRangeRequest; signal?: AbortSignal; priority?: "high" | "low" | "auto"; maxBytes?: number } = {},
  ): Promise<Uint8Array<ArrayBuffer>> {
    const { range, signal, priority } = options;
    // The peer chooses the length: never read more than the caller can use (a range: its length).
    const maxBytes = range ? range.end - range.start + 1 : Math.min(options.maxBytes ?? MAX_OBJECT_BYTES, MAX_OBJECT_BYTES);
    const headers: Record<string, string> = range ? { Range: `bytes=${range.start}-${range.end}` } : {};
    // Fetch priority (Chromium): a guest blocked on a page fault outranks background prefetch.
    const init: RequestInit & { priority?: string } = { headers, signal, ...(priority ? { priority } : {}) };
    const response = await this.request(storePath("objects", name), init, name);
    const bytes = await this.readBytes(response, maxBytes, name);
    if (range) {
      if (response.status !== 206) throw shareErrors.storeRefused(response.status, "range request not honoured");
      return bytes;
    }
    if ((await sha256Hex(bytes)) !== name) throw shareErrors.integrity(name);
    return bytes;
  }

  /** Sealed manifest bytes, checked against their name. */
  /** An object's bytes as they arrive, unverified: the caller checks what it builds from them. */
  async getObjectStream(name: string, options: { signal?: AbortSignal; priority?: "high" | "low" | "auto" } = {}): Promise<ReadableStream<Uint8Array>> {
    const init: RequestInit & { priority?: string } = { ...(options.signal ? { signal: options.signal } : {}), ...(options.priority ? { priority: options.priority } : {}) };
    const response = await this.request(storePath("objects", name), init, name);
    if (!response.body) throw shareErrors.storeRefused(response.status, "answer has no body");
    return response.body;
  }

  async getManifest(name: string, signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>> {
    const response = await this.request(storePath("manifests", name), { signal }, name);
    const bytes = await this.readBytes(response, MAX_MANIFEST_BYTES, name);
    if ((await sha256Hex(bytes)) !== name) throw shareErrors.integrity(name);
    return bytes;
  }

  private async put(path: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    const response = await this.request(path, { method: "PUT", body: ownedBytes(bytes), headers: this.writeHeaders, signal });
    await this.drain(response);
  }

  /**
   * Reads a write's (small) answer to its end rather than cancelling it: a cancelled body counts
   * as a failed request (hundreds per share in DevTools) and keeps the connection from being
   * reused. Bounded like every read of what a peer sends: past 64 KiB it is cut off.
   */
  private async drain(response: Response): Promise<void> {
    await this.readBytes(response, 64 * 1024, "the upload's answer").catch((error: unknown) => {
      if (isAbort(error)) throw error;
    });
  }

  /**
   * `attempt` with retries: every store request is idempotent (content-addressed PUTs, GETs, the
   * missing query), and a proxy in front of the store drops the odd request under load (seen as
   * a failed PUT through Vite's preview proxy), so "unreachable" is only believed after retries.
   */
  private async request(path: string, init: RequestInit, missingName?: string): Promise<Response> {
    for (let retry = 0; ; retry++) {
      try {
        return await this.attempt(path, init, missingName);
      } catch (error) {
        if (!(error instanceof ShareError) || error.code !== "store-unreachable" || retry >= this.retries || init.signal?.aborted) throw error;
        await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 4 ** retry));
      }
    }
  }

  /** One fetch with status mapping; `missingName` turns a 404 into "missing object". */
  private async attempt(path: string, init: RequestInit, missingName?: string): Promise<Response> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}/${path}`, init);
    } catch (error) {
      if (isAbort(error)) throw error; // the caller asked for it: not a store failure
      throw shareErrors.storeUnreachable(error);
    }
    if (response.ok) return response;
    const detail = await errorDetail(response);
    // 502-504 are what a proxy (Vite's included) answers when the store behind it is down.
    if (response.status >= 502 && response.status <= 504) throw shareErrors.storeUnreachable(detail);
    if (response.status === 404 && missingName !== undefined) throw shareErrors.objectMissing(missingName);
    throw shareErrors.storeRefused(response.status, detail);
  }

  /**
   * The body, refused as damaged once it passes maxBytes (declared or streamed): a hostile store
   * cannot make us hold more than the caller can use. Pieces are joined once, at the end.
   */
  private async readBytes(response: Response, maxBytes: number, name: string): Promise<Uint8Array<ArrayBuffer>> {
    const tooLarge = () => shareErrors.damaged(`answer for ${name} is larger than ${maxBytes} bytes`);
    const declared = Number(response.headers.get("content-length") ?? NaN);
    if (declared > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (!response.body) return new Uint8Array(0);
    const reader = response.body.getReader();
    const pieces: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw tooLarge();
        }
        pieces.push(value);
      }
    } catch (error) {
      if (isAbort(error) || error instanceof ShareError) throw error;
      throw shareErrors.storeUnreachable(error);
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const piece of pieces) {
      out.set(piece, at);
      at += piece.byteLength;
    }
    return out;
  }

  private async readJson(response: Response, maxBytes: number): Promise<unknown> {
    try {
      return JSON.parse(new TextDecoder().decode(await this.readBytes(response, maxBytes, "the query")));
    } catch (error) {
      if (isAbort(error) || error instanceof ShareError) throw error;
      if (error instanceof SyntaxError) throw shareErrors.storeRefused(response.status, "answer is not JSON");
      throw shareErrors.storeUnreachable(error);
    }
  }
}

/** The store's error message, from at most the first 4 KiB of the answer (the store picks its size). */
async function errorDetail(response: Response): Promise<string> {
  try {
    const reader = response.body?.getReader();
    const pieces: Uint8Array[] = [];
    let total = 0;
    while (reader && total < 4096) {
      const { done, value } = await reader.read();
      if (done) break;
      pieces.push(value);
      total += value.byteLength;
    }
    await reader?.cancel().catch(() => undefined);
    const text = new TextDecoder().decode(new Uint8Array(pieces.flatMap((p) => [...p])));
    const parsed: unknown = JSON.parse(text);
    const message = (parsed as { error?: unknown } | null)?.error;
    return typeof message === "string" ? message.slice(0, 200) : "";
  } catch {
    return "";
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError" && !(error instanceof ShareError);
}
