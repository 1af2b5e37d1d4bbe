/**
 * Files in and out of the guest, for the automation API and the files panel alike. Everything
 * crosses through the host folder (/mnt/host, v86's 9p device, see src/protocol/files.ts): an
 * upload is written there by the worker and the guest sees it at once; a download of a file
 * elsewhere in the guest is first copied into the folder by the guest itself (its own shell on
 * the automation channel), read, and the copy removed.
 */
import type { HostFile } from "../protocol";
import type { EmulatorRemote } from "./emulator-client";
import { HOST_FOLDER, hostFolderPath, inHostFolder } from "../protocol/files";
import { Snap86Error } from "../protocol/errors";
import type { RunResult } from "./run-command";

/** What the caller may hand to upload: bytes, text (written as UTF-8) or a File/Blob. */
export type UploadData = ArrayBuffer | ArrayBufferView | string | Blob;

export interface GuestFilesDeps {
  /** The current machine's files facet (a reset may swap the worker: ask each time). */
  files(): Pick<EmulatorRemote["files"], "put" | "get" | "remove">;
  /** Runs a shell command in the guest (the automation API's runWithStatus). */
  run(command: string): Promise<RunResult>;
}

export async function toBytes(data: UploadData): Promise<Uint8Array> {
  if (typeof data === "string") return new TextEncoder().encode(data);
  if (data instanceof Blob) return new Uint8Array(await data.arrayBuffer());
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new Snap86Error("invalid-argument", "upload() takes an ArrayBuffer, a typed array, a string or a Blob");
}

/** Quotes a path for the guest's shell (single quotes; a single quote itself closes and reopens). */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * The host folder is held in memory and carried by every checkpoint: a file larger than this is
 * refused with a message rather than exhausting the tab's memory mid-copy.
 */
export const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;

/** `path`: relative to /mnt/host or absolute under it. Resolves once the guest can read the file. */
export async function uploadFile(deps: GuestFilesDeps, path: string, data: UploadData): Promise<HostFile> {
  const rel = hostFolderPath(path);
  const size = data instanceof Blob ? data.size : typeof data === "string" ? data.length : data.byteLength;
  if (size > MAX_UPLOAD_BYTES) {
    throw new Snap86Error("invalid-argument", `${path} is ${Math.round(size / 2 ** 20)} MiB: the host folder takes files up to ${MAX_UPLOAD_BYTES / 2 ** 20} MiB (it lives in memory and in every checkpoint)`);
  }
  return deps.files().put(rel, await toBytes(data));
}

let copies = 0;

/** The shell line that copies a guest file into the host folder and says how that went. */
export function copyOutCommand(guestPath: string, copyName: string): string {
  const src = shellQuote(guestPath);
  const dst = shellQuote(`${HOST_FOLDER}/${copyName}`);
  // dd with 1 MiB blocks: each write() is one 9p message of up to msize (512000 bytes), where
  // cp's small buffers made 10 MiB take ~5 s of round trips instead of ~0.3 s.
  return `if [ ! -f ${src} ]; then echo missing; elif dd if=${src} of=${dst} bs=1M 2>/dev/null; then echo copied; else echo failed; fi`;
}

/** Any regular file of the guest, by absolute path (or relative to /mnt/host). */
export async function downloadFile(deps: GuestFilesDeps, guestPath: string): Promise<Uint8Array> {
  if (!guestPath.startsWith("/") || inHostFolder(guestPath)) {
    return deps.files().get(hostFolderPath(guestPath)).catch((e: unknown) => {
      throw withPath(e, guestPath);
    });
  }
  copies += 1;
  const copyName = `.snap86-download-${Date.now().toString(36)}-${copies}`;
  const answer = (await deps.run(copyOutCommand(guestPath, copyName))).output.trim();
  if (answer === "missing") throw new Snap86Error("file-not-found", `There is no file ${guestPath} in the guest`, { detail: { path: guestPath } });
  if (answer !== "copied") {
    throw new Snap86Error("unsupported", `The guest could not copy ${guestPath} into ${HOST_FOLDER} (${answer || "no answer"}): is the host folder mounted?`);
  }
  try {
    return await deps.files().get(copyName);
  } finally {
    await deps.files().remove(copyName).catch(() => undefined);
  }
}

/** The worker names the folder-relative path; the caller named the guest path. */
function withPath(e: unknown, path: string): unknown {
  if (typeof e === "object" && e !== null && (e as { code?: unknown }).code === "file-not-found") {
    return new Snap86Error("file-not-found", `There is no file ${path} in the guest`, { detail: { path } });
  }
  return e;
}
