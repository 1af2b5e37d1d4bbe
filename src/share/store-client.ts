import { forEachLimited } from "../async/for-each-limited";
import { sha256Hex } from "./crypto";
import { ownedBytes } from "./encoding";
import { MISSING_QUERY, storePath } from "../protocol/store-http";
import { ShareError, shareErrors } from "./errors";

/** Client for the checkpoint store (server/store-server.ts); every failure is a ShareError. */

export interface StoreClientOptions {
  /** Defaults to "/store", which Vite proxies to the store in dev and preview. */
  readonly baseUrl?: string;
  readonly fetch?: typeof globalThis.fetch;
  /** Extra attempts after a network error or a proxy's 502-504 (default 2). */
  readonly retries?: number;
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

const MISSING_BATCH = 5_000;
const RETRY_BASE_MS = 200;

export class StoreClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly retries: number;

  constructor(options: StoreClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? "/store").replace(/\/+$/, "");
    // Bound so a detached `fetch` is never called with the wrong `this` (browsers throw).
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.retries = Math.max(0, Math.floor(options.retries ?? 2));
  }

  /** Names from `names` that the store lacks, in first-seen order. */
  async missing(names: readonly string[], signal?: AbortSignal): Promise<string[]> {
    const unique = [...new Set(names)];
    const lacking: string[] = [];
    for (let i = 0; i < unique.length; i += MISSING_BATCH) {
      const response = await this.request(MISSING_QUERY, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(unique.slice(i, i + MISSING_BATCH)),
        signal,
      });
      const answer: unknown = await this.readJson(response);
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
    await forEachLimited(
      queue,
      concurrency,
      async (item) => {
        await this.putObject(item.name, item.bytes, options.signal);
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
  async getObject(name: string, options: { range?: ByteRangeRequest; signal?: AbortSignal; priority?: "high" | "low" | "auto" } = {}): Promise<Uint8Array<ArrayBuffer>> {
    const { range, signal, priority } = options;
    const headers: Record<string, string> = range ? { Range: `bytes=${range.start}-${range.end}` } : {};
    // Fetch priority (Chromium): a guest blocked on a page fault outranks background prefetch.
    const init: RequestInit & { priority?: string } = { headers, signal, ...(priority ? { priority } : {}) };
    const response = await this.request(storePath("objects", name), init, name);
    const bytes = await this.readBytes(response);
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
    const bytes = await this.readBytes(response);
    if ((await sha256Hex(bytes)) !== name) throw shareErrors.integrity(name);
    return bytes;
  }

  private async put(path: string, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    const response = await this.request(path, { method: "PUT", body: ownedBytes(bytes), signal });
    // Read the (small) answer to its end rather than cancelling it: a cancelled body counts as a
    // failed request (hundreds per share in DevTools) and keeps the connection from being reused.
    await response.arrayBuffer().catch((error: unknown) => {
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

  private async readBytes(response: Response): Promise<Uint8Array<ArrayBuffer>> {
    try {
      return new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      if (isAbort(error)) throw error;
      throw shareErrors.storeUnreachable(error);
    }
  }

  private async readJson(response: Response): Promise<unknown> {
    try {
      return await response.json();
    } catch (error) {
      if (isAbort(error)) throw error;
      if (error instanceof SyntaxError) throw shareErrors.storeRefused(response.status, "answer is not JSON");
      throw shareErrors.storeUnreachable(error);
    }
  }
}

async function errorDetail(response: Response): Promise<string> {
  try {
    const text = await response.text();
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
