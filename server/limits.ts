import type { Server, ServerOptions } from "node:http";

/** Defaults for what one peer may hold of the store (see docs/sharing.md, "Limits"). */
export interface ServerLimits {
  /** Sockets open at once; more are dropped on accept (each holds buffers and a descriptor). */
  maxConnections: number;
  /** Missing queries being read or answered at once; more get 503 before their body is read. */
  maxConcurrentQueries: number;
  /** Whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** A socket silent this long is closed: a stalled upload releases its temp file and descriptor. */
  idleTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxConnections: 512,
  maxConcurrentQueries: 4,
  // 64 MiB objects at 1 MiB/s still fit; a slowloris cannot hold a slot for Node's 300 s.
  requestTimeoutMs: 120_000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 15_000,
};

/**
 * Options only createServer takes: Node checks header and request deadlines on a timer
 * (every 30 s by default), so a 10 s deadline needs checks at least that often.
 */
export function serverOptions(limits: ServerLimits): ServerOptions {
  const deadline = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: deadline,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(deadline / 4))),
  };
}

export function applyLimits(server: Server, limits: ServerLimits): void {
  server.maxConnections = limits.maxConnections;
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  // With no 'timeout' listener, Node destroys an idle socket: the body iterator then fails and
  // the object store discards the partial write.
  server.timeout = limits.idleTimeoutMs;
  server.keepAliveTimeout = Math.min(5_000, limits.idleTimeoutMs);
}

/** A counter of slots: take() is false when all are in use (the caller answers 503, never waits). */
export class Slots {
  private used = 0;
  constructor(private readonly size: number) {}
  take(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    return true;
  }
  release(): void {
    this.used = Math.max(0, this.used - 1);
  }
}

/** A write failed because the storage is full or over its quota: the client gets 507, not silence. */
export function isStorageFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}
