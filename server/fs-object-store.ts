import { createReadStream } from "node:fs";
import { mkdir, open, rename, stat, unlink } from "node:fs/promises";
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

  constructor(private readonly root: string) {
    this.tmpDir = join(root, "tmp");
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

  async put(name: string, body: AsyncIterable<Uint8Array>): Promise<"created" | "exists"> {
    const finalPath = this.pathOf(name);
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
    await mkdir(join(this.root, name.slice(0, 2)), { recursive: true });
    // A concurrent put of the same name renames identical bytes over ours: harmless.
    await rename(tmpPath, finalPath);
    return "created";
  }
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
