/**
 * The object v86 gets as `hda` (or `cdrom`/`fda` with a read-only overlay). v86 calls the methods with
 * underscores by these names, so they keep them. Saved states hold only a small layer reference
 * (get_state), never disk contents: the checkpoint code keeps the layer itself.
 *
 * Checkpoint/restore protocol: stop the VM, `await disk.whenIdle()` (IDE set_state does not cancel reads in
 * flight), `await disk.flush()`, then save; to restore, `disk.attach(overlayOfTheCheckpoint)` before
 * `restore_state` so set_state sees the matching layer.
 */
import { LayerError } from "./errors";
import type { Overlay } from "./overlay";

export type V86DiskStateRef = [tag: "snap86-disk", version: 1, layerId: string, byteLength: number];

export type V86DiskErrorOp = "read" | "write" | "state";

export interface V86DiskOptions {
  /** Refuse writes (CD-ROM, shared golden disks). */
  readOnly?: boolean;
  /** Errors v86 has no way to report (the IDE command just never completes). */
  onError?: (error: unknown, op: V86DiskErrorOp) => void;
  /** Retries of a failed read before giving up (network hiccups). Default 3, backoff 0.5 s doubling. */
  readRetries?: number;
  retryDelayMs?: number;
}

export class V86Disk {
  byteLength: number;
  onload: ((e: object) => void) | undefined = undefined;
  onprogress: ((e: object) => void) | undefined = undefined;
  private overlay: Overlay;
  private readonly o: V86DiskOptions;
  private reads = 0;
  private idleWaiters: Array<() => void> = [];
  /** Requests that arrived while held, replayed in order on release. */
  private held: Array<() => void> | null = null;
  /** Layer named by the last set_state when it did not match the attached overlay. */
  stateMismatch: string | null = null;

  constructor(overlay: Overlay, o: V86DiskOptions = {}) {
    this.overlay = overlay;
    this.o = o;
    this.byteLength = overlay.size;
  }

  get layerId(): string {
    return this.overlay.layer.id;
  }

  get current(): Overlay {
    return this.overlay;
  }

  get inFlightReads(): number {
    return this.reads;
  }

  get readOnly(): boolean {
    return (this.o.readOnly ?? false) || this.overlay.readOnly;
  }

  /** Swaps the overlay (checkpoint restore, fast reboot). Only while idle and stopped. */
  attach(overlay: Overlay): void {
    if (this.reads > 0) throw new LayerError("cannot switch disk layers while reads are in flight: await whenIdle() first");
    if (overlay.size !== this.byteLength) throw new LayerError(`new disk layer has ${overlay.size} bytes, the machine has ${this.byteLength}`);
    this.overlay = overlay;
    this.stateMismatch = null;
  }

  /** v86: loads the disk, then calls onload. Block 0 is read first so geometry detection finds it in memory. */
  load(): void {
    this.startRead(0, Math.min(512, this.byteLength), () => this.onload?.(Object.create(null) as object));
  }

  /**
   * Holds the guest's disk requests (queued in order) so the CPU can run on while the layer is
   * switched under it (a checkpoint freezes the layer after its pause); release() replays them on
   * whatever overlay is attached by then. A write queued before a read is replayed before it, so
   * the read still sees it.
   */
  hold(): () => void {
    if (this.held) throw new LayerError("the disk is already held");
    const queue: Array<() => void> = [];
    this.held = queue;
    return () => {
      if (this.held !== queue) return;
      this.held = null;
      for (const request of queue) request();
    };
  }

  get(start: number, len: number, cb: (data: Uint8Array) => void): void {
    if (this.held) this.held.push(() => this.startRead(start, len, cb));
    else this.startRead(start, len, cb);
  }

  /** Overlay blocks stay in memory, so this is get() under v86's name. */
  get_and_cache(start: number, len: number, cb: (data: Uint8Array) => void): void {
    this.get(start, len, cb);
  }

  get_from_cache(start: number, len: number): Uint8Array | undefined {
    if (start < 0 || len < 0 || start + len > this.byteLength) return undefined;
    return this.overlay.readSync(start, len);
  }

  set(start: number, data: Uint8Array, cb: () => void): void {
    if (this.held) {
      // v86 may reuse the buffer after set returns (PIO): keep a copy for the replay.
      const copy = data.slice();
      this.held.push(() => this.set(start, copy, cb));
      return;
    }
    if (this.readOnly) {
      this.o.onError?.(new LayerError("write to a read-only disk ignored"), "write");
      cb();
      return;
    }
    let overLimit: boolean;
    try {
      overLimit = this.overlay.write(start, data);
    } catch (e) {
      this.o.onError?.(e, "write");
      cb();
      return;
    }
    // Backpressure: a DMA write completes when cb runs, so the guest waits while the dirty set drains.
    if (overLimit) this.overlay.flush().then(cb, cb);
    else cb();
  }

  get_state(): V86DiskStateRef {
    return ["snap86-disk", 1, this.overlay.layer.id, this.byteLength];
  }

  set_state(s: unknown): void {
    if (!Array.isArray(s) || s[0] !== "snap86-disk" || typeof s[2] !== "string") {
      this.o.onError?.(new LayerError("saved state has no snap86 disk reference (made with another disk type?)"), "state");
      return;
    }
    const id = s[2];
    const ok = id === this.overlay.layer.id || this.overlay.layer.parent === id;
    // The state's layer must be the attached one (or its parent: a checkpoint resumes on a child of the frozen layer).
    this.stateMismatch = ok ? null : id;
    if (!ok) this.o.onError?.(new LayerError(`saved state expects disk layer ${id}, attached is ${this.overlay.layer.id}`), "state");
  }

  flush(): Promise<void> {
    return this.overlay.flush();
  }

  /** Resolves when no read is in flight. */
  whenIdle(): Promise<void> {
    if (this.reads === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private startRead(start: number, len: number, cb: (data: Uint8Array) => void): void {
    // Blocks already in memory answer at once, as v86's own in-memory disk does: a round trip
    // through promises per IDE command is what made overlay reads slower than a plain buffer.
    const cached = start >= 0 && len >= 0 && start + len <= this.byteLength ? this.overlay.readSync(start, len) : undefined;
    if (cached) {
      cb(cached);
      return;
    }
    this.reads++;
    void this.readWithRetry(start, len).then(
      (data) => {
        this.readDone();
        cb(data);
      },
      (e: unknown) => {
        // No error path exists in v86's IDE: leave the command unanswered (the guest driver times out and
        // retries) rather than hand it wrong bytes.
        this.readDone();
        this.o.onError?.(e, "read");
      },
    );
  }

  private async readWithRetry(start: number, len: number): Promise<Uint8Array> {
    const retries = this.o.readRetries ?? 3;
    let delay = this.o.retryDelayMs ?? 500;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.overlay.read(start, len);
      } catch (e) {
        if (attempt >= retries || !isTransient(e)) throw e;
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
  }

  private readDone(): void {
    this.reads--;
    if (this.reads === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }
}

function isTransient(e: unknown): boolean {
  const kind = (e as { kind?: unknown } | null)?.kind;
  return kind === "network" || kind === "http" || kind === "short-read";
}
