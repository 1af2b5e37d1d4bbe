/**
 * The files facet of the emulator worker: the host folder, a directory v86 keeps in memory and
 * the built-in guest mounts at /mnt/host over virtio 9p. Files put there appear in the guest at
 * once; files the guest writes there can be read back. Its bytes are part of v86's device state,
 * so checkpoints, restores, resets and share links carry them like RAM.
 */
import { Snap86Error } from "./errors";

/** Where the built-in guest mounts the host folder (scripts/guest/guest-files.mjs HOST_FOLDER). */
export const HOST_FOLDER = "/mnt/host";

export interface HostFile {
  /** Relative to the host folder, "/"-separated: "notes.txt", "src/main.c". */
  path: string;
  size: number;
}

export interface FilesFacet {
  /** Writes (or replaces) a file of the host folder, making its directories. */
  put(path: string, data: Uint8Array): Promise<HostFile>;
  /** A file of the host folder (a copy); rejects with file-not-found. */
  get(path: string): Promise<Uint8Array>;
  /** Deletes a file of the host folder; resolves false if there was none. */
  remove(path: string): Promise<boolean>;
  /** Every file of the host folder, directories walked, sorted by path. */
  list(): HostFile[];
}

/**
 * The host-folder path for what a caller names: relative to the folder ("a/b.txt") or absolute
 * under it ("/mnt/host/a/b.txt"). Anything else is refused: other guest paths are reached by
 * copying through the folder (src/page/guest-files.ts), never by writing the disk behind the
 * guest's back.
 */
export function hostFolderPath(path: string): string {
  let rel = path;
  if (rel === HOST_FOLDER || rel.startsWith(`${HOST_FOLDER}/`)) rel = rel.slice(HOST_FOLDER.length);
  else if (rel.startsWith("/")) throw new Snap86Error("invalid-argument", `${path} is not in ${HOST_FOLDER}: files go into the guest through that folder`);
  const parts = rel.split("/").filter((p) => p !== "");
  if (parts.length === 0) throw new Snap86Error("invalid-argument", `${path} names the folder itself, not a file in it`);
  for (const p of parts) {
    if (p === "." || p === "..") throw new Snap86Error("invalid-argument", `${path}: "." and ".." are not allowed in a host-folder path`);
    if (p.includes("\0")) throw new Snap86Error("invalid-argument", "A file name cannot contain a NUL character");
  }
  return parts.join("/");
}

/** Whether a guest path is inside the host folder (then it is read straight from it). */
export function inHostFolder(guestPath: string): boolean {
  return guestPath.startsWith(`${HOST_FOLDER}/`);
}
