import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat, unlink, utimes } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { isObjectName, type ByteRange, type ObjectStore, type StoredObject } from "./object-store.js";

/**
 * Filesystem store: <root>/<first two hex chars>/<name>, written through <root>/tmp and
 * renamed into place, so readers never see a half-written object (rename is atomic on one
 * filesystem, and tmp lives under the same root for that reason).
 */
export class FsObjectStore implements ObjectStore {
  private readonly tmpDir: string;
  /** The start-up sweep of temp files; puts wait for it so it never removes a live upload's file. */
  readonly ready: Promise<number>;

  constructor(private readonly root: string) {
    this.tmpDir = join(root, "tmp");
    this.ready = this.sweepTemp();
    this.ready.catch(() => undefined); // surfaced by the first put
  }

  /**
   * Removes temp files a killed process left behind (an upload cut off by a crash or SIGKILL
   * never reaches its unlink). Only at start: every temp file then belongs to a dead process.
   */
  private async sweepTemp(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.tmpDir);
    } catch (error) {
      if (isNotFound(error)) return 0;
      throw error;
    }
    await Promise.all(names.map((n) => rm(join(this.tmpDir, n), { force: true, recursive: true })));
    return names.length;
  }

  /**
   * Makes a rename durable: the new directory entry is only on disk once the directory itself is
   * fsynced, so without this an acknowledged object can vanish on power loss.
   */
  protected async syncDirectory(dir: string): Promise<void> {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private pathOf(name: string): string {
    // Defence in depth: the HTTP layer already refuses bad names, but a path is built here.
    if (!isObjectName(name)) throw new Error(`invalid object name: ${name}`);
    return join(this.root, name.slice(0, 2), name);
  }

  async size(name: string): Promise<number | null> {
    try {
      const info = await stat(this.pathOf(name));
      return info.isFile() ? info.size : null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async has(name: string): Promise<boolean> {
    return (await this.size(name)) !== null;
  }

  async get(name: string, range?: ByteRange): Promise<StoredObject | null> {
    const path = this.pathOf(name);
    // Open first so the size and the stream describe the same file even if it were replaced.
    let handle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    let size: number;
    try {
      size = (await handle.stat()).size;
    } catch (error) {
      await handle.close();
      throw error;
    }
    // The stream owns the handle from here: it closes it on end, error or destroy.
    const body = createReadStream("", { fd: handle, start: range?.start, end: range?.end });
    return { size, body };
  }

  /** Last use is the file's mtime, refreshed at most once a day so reads stay read-only mostly. */
  async touch(name: string): Promise<void> {
    const path = this.pathOf(name);
    try {
      const info = await stat(path);
      const now = Date.now();
      if (now - info.mtimeMs > DAY_MS) await utimes(path, info.atime, new Date(now));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async collect(before: number): Promise<number> {
    let removed = 0;
    for (const shard of await readdir(this.root).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue; // tmp/ and anything foreign stay
      for (const name of await readdir(join(this.root, shard)).catch(() => [] as string[])) {
        if (!isObjectName(name)) continue;
        const path = join(this.root, shard, name);
        const info = await stat(path).catch(() => null);
        if (info && info.mtimeMs < before) {
          await unlink(path).catch(() => undefined);
          removed++;
        }
      }
    }
    return removed;
  }

  async put(name: string, body: AsyncIterable<Uint8Array>): Promise<"created" | "exists"> {
    const finalPath = this.pathOf(name);
    await this.ready;
    if (await this.has(name)) return "exists";
    await mkdir(this.tmpDir, { recursive: true });
    const tmpPath = join(this.tmpDir, `${name}.${randomBytes(8).toString("hex")}`);
    const handle = await open(tmpPath, "wx");
    try {
      for await (const chunk of body) await handle.write(chunk);
      await handle.datasync();
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(tmpPath).catch(() => undefined);
      throw error;
    }
    const dir = join(this.root, name.slice(0, 2));
    // A shard directory made just now is itself an entry of the root that must be made durable.
    if ((await mkdir(dir, { recursive: true })) !== undefined) await this.syncDirectory(this.root);
    // A concurrent put of the same name renames identical bytes over ours: harmless.
    await rename(tmpPath, finalPath);
    // The answer (201) promises durability, so it waits for the directory entry to be on disk.
    await this.syncDirectory(dir);
    return "created";
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
