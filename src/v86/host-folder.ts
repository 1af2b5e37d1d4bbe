/**
 * The host folder: v86's in-memory 9p filesystem (lib/filesystem.js), which the built-in guest
 * mounts at /mnt/host. Paths here are relative to the folder and already checked
 * (src/protocol/files.ts hostFolderPath). Works on the filesystem object directly, so a file
 * the page writes is visible to the guest's next lookup (the guest mounts with cache=none).
 */
import { Snap86Error } from "../protocol/errors";
import type { HostFile } from "../protocol/files";
import type { V86Fs } from "./types";

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const ROOT_ID = 0;

export class HostFolder {
  constructor(private readonly fs: V86Fs) {}

  async put(path: string, data: Uint8Array): Promise<HostFile> {
    const parts = path.split("/");
    const name = parts.pop() as string;
    let dir = ROOT_ID;
    for (const part of parts) dir = this.directory(dir, part);
    const existing = this.child(dir, name);
    if (existing !== -1) {
      if (this.fs.IsDirectory(existing)) throw new Snap86Error("invalid-argument", `${path} is a directory in the host folder`);
      await this.unlink(dir, name, existing);
    }
    // CreateBinaryFile copies the bytes, so the caller's buffer may be reused or transferred.
    await this.fs.CreateBinaryFile(name, dir, data);
    return { path, size: data.byteLength };
  }

  async get(path: string): Promise<Uint8Array> {
    const found = this.fs.SearchPath(path);
    if (found.id === -1 || !this.isFile(found.id)) {
      throw new Snap86Error("file-not-found", `There is no file ${path} in the host folder`, { detail: { path } });
    }
    const data = await this.fs.read_file(path);
    // read_file hands out a view of the file's own buffer: copy before it leaves the worker.
    return data ? data.slice() : new Uint8Array(0);
  }

  async remove(path: string): Promise<boolean> {
    const found = this.fs.SearchPath(path);
    if (found.id === -1 || !this.isFile(found.id)) return false;
    // SearchPath leaves `name` undefined when it finds the file: the name is the path's last part.
    await this.unlink(found.parentid, path.split("/").pop() as string, found.id);
    return true;
  }

  list(): HostFile[] {
    const out: HostFile[] = [];
    const walk = (dir: number, prefix: string) => {
      for (const name of this.fs.GetChildren(dir)) {
        const id = this.child(dir, name);
        if (id === -1) continue;
        if (this.fs.IsDirectory(id)) walk(id, `${prefix}${name}/`);
        else if (this.isFile(id)) out.push({ path: `${prefix}${name}`, size: this.fs.inodes[id].size });
      }
    };
    walk(ROOT_ID, "");
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private child(dir: number, name: string): number {
    return this.fs.inodes[dir]?.direntries.get(name) ?? -1;
  }

  private isFile(id: number): boolean {
    return (this.fs.inodes[id].mode & S_IFMT) === S_IFREG;
  }

  private directory(parent: number, name: string): number {
    const id = this.child(parent, name);
    if (id === -1) return this.fs.CreateDirectory(name, parent);
    if (!this.fs.IsDirectory(id)) throw new Snap86Error("invalid-argument", `${name} is a file in the host folder, not a directory`);
    return id;
  }

  /** Unlinks and frees the bytes once no name is left (otherwise every checkpoint would keep them). */
  private async unlink(dir: number, name: string, id: number): Promise<void> {
    this.fs.Unlink(dir, name);
    if (this.fs.inodes[id].nlinks === 0) await this.fs.DeleteData(id);
  }
}
