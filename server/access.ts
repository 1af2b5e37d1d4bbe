import type { IncomingMessage } from "node:http";
import { UPLOAD_TOKEN_HEADER } from "../src/protocol/store-http.js";

/**
 * Who may write (docs/sharing.md, "Who may write"). Reads stay open: objects are ciphertext
 * named by their hash and a link is the capability. Writes (PUT, the missing query) need one of:
 *  - an upload token (header X-Snap86-Upload-Token), with a byte quota per token;
 *  - open writes (the default only when the store listens on a loopback address, for
 *    development), but never from a foreign web page: a request whose Origin is neither
 *    loopback nor configured is refused, since a browser always names the page it comes from.
 *  - a configured origin (SNAP86_STORE_ORIGINS): the browser-enforced Origin header stops other
 *    web pages from uploading through a visitor's browser; it does not stop a script that forges
 *    the header, which is what tokens are for.
 */
export interface AccessOptions {
  /** Exact origins ("https://app.example") that may use the store from a browser. */
  allowedOrigins?: readonly string[];
  /** Token → quota in bytes stored through it. */
  uploadTokens?: Readonly<Record<string, number>>;
  /** Writes without a token (loopback development). */
  openWrites?: boolean;
  /** Requests per second per writer (token or address), and the burst allowed above it. */
  writeRatePerSecond?: number;
  writeBurst?: number;
}

export type WriteDecision =
  | { ok: true; principal: string; token?: string }
  | { ok: false; status: 401 | 403 | 429; message: string; retryAfterSeconds?: number };

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function isLoopbackOrigin(origin: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(origin).hostname);
  } catch {
    return false;
  }
}

export function isLoopbackAddress(host: string): boolean {
  return host === "127.0.0.1" || host === "::1" || host === "localhost" || host.startsWith("127.");
}

export class Access {
  private readonly origins: ReadonlySet<string>;
  private readonly tokens: ReadonlyMap<string, number>;
  private readonly used = new Map<string, number>();
  private readonly buckets = new Map<string, { level: number; at: number }>();
  private readonly rate: number;
  private readonly burst: number;

  constructor(
    private readonly options: AccessOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.origins = new Set(options.allowedOrigins ?? []);
    this.tokens = new Map(Object.entries(options.uploadTokens ?? {}));
    this.rate = options.writeRatePerSecond ?? 200;
    this.burst = options.writeBurst ?? 2000;
  }

  /** The value for Access-Control-Allow-Origin, or null: CORS only for configured origins. */
  corsOrigin(req: IncomingMessage): string | null {
    const origin = req.headers.origin;
    if (typeof origin !== "string") return null;
    if (this.origins.has(origin)) return origin;
    if (this.options.openWrites && isLoopbackOrigin(origin)) return origin;
    return null;
  }

  /** Whether this request may write, and as whom (quota and rate are kept per principal). */
  mayWrite(req: IncomingMessage): WriteDecision {
    const origin = req.headers.origin;
    const header = req.headers[UPLOAD_TOKEN_HEADER.toLowerCase()];
    const token = typeof header === "string" ? header : undefined;
    // A foreign page is refused even with open writes: drive-by uploads through a visitor.
    if (typeof origin === "string" && !this.origins.has(origin) && !isLoopbackOrigin(origin)) {
      return { ok: false, status: 403, message: "this origin may not write to the store" };
    }
    let principal: string;
    if (token !== undefined) {
      if (!this.tokens.has(token)) return { ok: false, status: 401, message: "unknown upload token" };
      principal = `token:${token}`;
    } else if (this.options.openWrites || (typeof origin === "string" && this.origins.has(origin))) {
      principal = `addr:${req.socket.remoteAddress ?? "?"}`;
    } else {
      return { ok: false, status: 401, message: "an upload token is required to write to this store" };
    }
    const wait = this.spend(principal);
    if (wait > 0) return { ok: false, status: 429, message: "too many requests", retryAfterSeconds: Math.ceil(wait) };
    return { ok: true, principal, ...(token !== undefined ? { token } : {}) };
  }

  /** False when `bytes` more would put the token over its quota (open writers have none). */
  withinQuota(token: string | undefined, bytes: number): boolean {
    if (token === undefined) return true;
    return (this.used.get(token) ?? 0) + bytes <= (this.tokens.get(token) ?? 0);
  }

  charge(token: string | undefined, bytes: number): void {
    if (token !== undefined) this.used.set(token, (this.used.get(token) ?? 0) + bytes);
  }

  /** Token bucket: 0 when allowed now, otherwise seconds until a request is allowed. */
  private spend(principal: string): number {
    const now = this.now();
    const bucket = this.buckets.get(principal) ?? { level: this.burst, at: now };
    bucket.level = Math.min(this.burst, bucket.level + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    this.buckets.set(principal, bucket);
    if (bucket.level < 1) return (1 - bucket.level) / this.rate;
    bucket.level -= 1;
    // Bounded memory: buckets that refilled are forgotten once there are many.
    if (this.buckets.size > 10_000) for (const [key, b] of this.buckets) if (b.level >= this.burst) this.buckets.delete(key);
    return 0;
  }
}
