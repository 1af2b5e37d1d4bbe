/**
 * A user's own drives, each opened as a base image like the built-in guest's disk (QEMU's words:
 * a base image under an overlay): a URL is read by HTTP Range as the guest needs its blocks (whole
 * when the server sends only whole files), a picked file by slices (never whole: a 4 GiB ISO
 * boots), bytes from memory. Hard disks and floppies run under a copy-on-write overlay in
 * IndexedDB (in memory for a secure session); CD-ROMs are read-only. Everything here that can
 * fail on bad input runs before the running machine is stopped (openUserDrives).
 */
import { formatBytes, HttpBaseImage, nameOfUrl, KeptFileImage, MemoryBaseImage, Overlay, sha256Hex, storageRoom, StoredImage, V86Disk, type BlockSource, type DiskDb } from "../disk";
import { LoadError, httpLoadCode, readWithProgress } from "../guest/fetch-with-progress";
import type { NoticeLevel, Progress } from "../protocol";
import { ConfigError, fileImageId, type DriveKind, type ImageSource } from "../protocol/machine-config";
import { detectMediaKind, DRIVE_NAMES, FLOPPY_MAX_BYTES, MEDIA_HEAD_BYTES, sizeFromContentRange } from "../protocol/media-kind";
import type { V86Options } from "../v86/types";
import { OWN_MACHINE_PREFIX, type MachineIdentity } from "../protocol/checkpoint-data";
import { DiskSession } from "./disk-session";

/** The first read of a URL: one block, which holds the media head (MEDIA_HEAD_BYTES). */
const BLOCK_SIZE = 64 * 1024;
/** Contiguous blocks one Range request fetches: boot reads are mostly sequential. */
const BLOCKS_PER_REQUEST = 16;

/** How an image's bytes reach the guest ("stored": kept in IndexedDB from a file chosen before). */
export type ImageAccess = "range" | "whole" | "file" | "stored" | "memory";

export interface UserImage {
  name: string;
  /** The drive it goes in: the one asked for, or detected from its content. */
  kind: DriveKind;
  /** Why that drive, for the page ("ISO 9660 signature", "chosen"). */
  reason: string;
  size: number;
  base: BlockSource;
  access: ImageAccess;
}

type OnProgress = (p: Progress) => void;
type Notice = (level: NoticeLevel, message: string) => void;

/** What opening an image may use: progress and notices for the page, the host cache, storage. */
export interface OpenContext {
  progress: OnProgress;
  /** The host cache of URL images' blocks; null keeps nothing (secure session). */
  db: DiskDb | null;
  /** Keep a picked file in IndexedDB so a reload boots it without the file (not in a secure session). */
  keep: boolean;
  notice: Notice;
}

async function openUrl(url: string, progress: OnProgress, db: DiskDb | null): Promise<{ name: string; head: Uint8Array; base: BlockSource; access: ImageAccess }> {
  const name = nameOfUrl(url);
  let response: Response;
  try {
    response = await fetch(url, { headers: { Range: `bytes=0-${BLOCK_SIZE - 1}` } });
  } catch (e) {
    throw new LoadError("image-unreachable", `Could not read ${url}: network error (${(e as Error).message}); the server must allow this page (CORS) and Range requests`, { url });
  }
  // 416: not even the first byte exists (an empty file, answered by a server with Range).
  if (response.status === 416) throw new LoadError("image-invalid", `The image at ${url} is empty`, { url });
  if (!response.ok) {
    void response.body?.cancel();
    throw new LoadError(httpLoadCode(response.status), `Could not read ${url}: HTTP ${response.status} ${response.statusText}`.trim(), { url, status: response.status });
  }
  if ((response.headers.get("content-type") ?? "").startsWith("text/html")) {
    void response.body?.cancel();
    throw new LoadError("image-invalid", `${url} returned a web page, not a disk image: check the URL`, { url });
  }
  const size = response.status === 206 ? sizeFromContentRange(response.headers.get("content-range")) : null;
  if (size !== null) {
    const head = new Uint8Array(await response.arrayBuffer());
    if (size === 0 || head.byteLength === 0) throw new LoadError("image-invalid", `The image at ${url} is empty`, { url });
    // Its identity: what the server says of the file and its first block, so a changed file
    // never reads old blocks. Without a validator (Last-Modified) a change elsewhere in a file of
    // the same size could not be told: such an image is not kept in the host cache.
    const validator = response.headers.get("last-modified");
    const base = await HttpBaseImage.open({
      url,
      size,
      sha256: "",
      identity: `url:${url}#${size}#${validator ?? ""}#${await sha256Hex(head)}`,
      blockSize: BLOCK_SIZE,
      db: validator ? db : null,
      maxBlocksPerRequest: BLOCKS_PER_REQUEST,
    });
    return { name, head, base, access: "range" };
  }
  // No Range (a 200, or a size the server does not expose): this answer is the whole image.
  const whole = response.status === 206 ? await fetchWhole(url, name, progress) : await readWithProgress(response, name, progress);
  if (whole.byteLength === 0) throw new LoadError("image-invalid", `The image at ${url} is empty`, { url });
  const bytes = new Uint8Array(whole);
  const base = new MemoryBaseImage(whole, { imageId: `sha256:${await sha256Hex(bytes)}`, blockSize: BLOCK_SIZE });
  return { name, head: bytes.subarray(0, MEDIA_HEAD_BYTES), base, access: "whole" };
}

async function fetchWhole(url: string, name: string, progress: OnProgress): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new LoadError(httpLoadCode(response.status), `Could not read ${url}: HTTP ${response.status}`, { url, status: response.status });
  return readWithProgress(response, name, progress);
}

async function openFile(name: string, file: Blob, ctx: OpenContext): Promise<{ head: Uint8Array; base: BlockSource }> {
  let head: Uint8Array;
  try {
    head = new Uint8Array(await file.slice(0, MEDIA_HEAD_BYTES).arrayBuffer());
  } catch (e) {
    throw new LoadError("image-invalid", `${name} could not be read (${(e as Error).message}): it may have been moved, changed or deleted since it was chosen`);
  }
  const imageId = fileImageId(name, file);
  if (!ctx.keep) return { head, base: new MemoryBaseImage(file, { imageId, blockSize: BLOCK_SIZE }) };
  const room = await storageRoom();
  if (room && file.size > room.quota - room.usage) {
    ctx.notice(
      "warning",
      `${name} (${formatBytes(file.size)}) is larger than this browser will store for snap86 (quota ${formatBytes(room.quota)}, ${formatBytes(room.usage)} used): ` +
        "it runs from the file, and after a reload it needs the file again.",
    );
    return { head, base: new MemoryBaseImage(file, { imageId, blockSize: BLOCK_SIZE }) };
  }
  const kept = await KeptFileImage.open(file, { imageId, name, blockSize: BLOCK_SIZE });
  if (!kept.complete) {
    kept.keepAll((meta) => ctx.notice("info", `${meta.name} is kept in this browser: after a reload it boots without the file (Kept images).`)).catch((e: Error) =>
      ctx.notice("warning", `${name} could not be kept in this browser (${e.message}): after a reload it needs the file again.`),
    );
  }
  return { head, base: kept };
}

/** Opens one image: its size known and its first block read, its drive decided. */
export async function openUserImage(source: ImageSource, ctx: OpenContext): Promise<UserImage> {
  let opened: { name: string; head: Uint8Array; base: BlockSource; access: ImageAccess };
  if ("url" in source) opened = await openUrl(source.url, ctx.progress, ctx.db);
  else if ("file" in source) opened = { name: source.name, access: "file", ...(await openFile(source.name, source.file, ctx)) };
  else if ("stored" in source) {
    // An image a share link brought as objects reads its missing blocks from the store (the share code loads only then).
    const base = await StoredImage.open(source.stored, undefined, async (meta) => (await import("./shared-image-source")).sharedImageSource(meta));
    opened = { name: base.meta.name, head: (await base.readBlock(0)).subarray(0, MEDIA_HEAD_BYTES), base, access: "stored" };
    if (!base.meta.complete && ctx.keep) {
      // Read on demand from its URL or the store until every block is kept here; then it needs neither.
      base.keepAll((meta) => ctx.notice("info", `${meta.name} is now kept completely in this browser.`)).catch((e: Error) =>
        ctx.notice("warning", `${base.meta.name} could not be kept completely in this browser (${e.message}): it reads the rest from where it came from.`),
      );
    }
  } else {
    const bytes = new Uint8Array(source.bytes);
    const base = new MemoryBaseImage(source.bytes, { imageId: `sha256:${await sha256Hex(bytes)}`, blockSize: BLOCK_SIZE });
    opened = { name: source.name, head: bytes.subarray(0, MEDIA_HEAD_BYTES), base, access: "memory" };
  }
  const { name, head, base, access } = opened;
  const guess = source.kind && source.kind !== "auto" ? { kind: source.kind, reason: "chosen" } : detectMediaKind(head, base.size, name);
  if (guess.kind === "fda" && base.size > FLOPPY_MAX_BYTES) throw new ConfigError(`${name} is too large for a floppy (at most 2.88 MiB): choose Hard disk or CD-ROM`);
  return { name, ...guess, size: base.size, base, access };
}

/** Opens every drive (in boot order) and checks that no two share a drive. */
export async function openUserDrives(sources: readonly ImageSource[], ctx: OpenContext): Promise<UserImage[]> {
  const images: UserImage[] = [];
  for (const source of sources) images.push(await openUserImage(source, ctx));
  const kinds = images.map((i) => i.kind);
  const twice = kinds.find((k, i) => kinds.indexOf(k) !== i);
  if (twice) {
    const both = images.filter((i) => i.kind === twice).map((i) => i.name);
    throw new ConfigError(`${both.join(" and ")} both go in the ${DRIVE_NAMES[twice]} drive: choose another drive for one of them`);
  }
  return images;
}

const BOOT_CODE: Record<DriveKind, number> = { fda: 1, hda: 2, cdrom: 3 };

/** v86's boot_order for drives tried in `order` (the others after them, in the BIOS's usual order). */
export function bootOrderOf(order: readonly DriveKind[]): number {
  const all = [...new Set<DriveKind>([...order, "cdrom", "hda", "fda"])];
  return all.reduce((value, kind, i) => value | (BOOT_CODE[kind] << (4 * i)), 0);
}

export interface AttachedDrives {
  options: Pick<V86Options, "fda" | "hda" | "cdrom" | "boot_order">;
  /** The writable drives' sessions: closed (flushed) when the machine powers off. */
  sessions: DiskSession[];
  /** The drive each session sits in (same order). */
  writableKinds: WritableDrive[];
  /** The CD-ROM's disk, if any: a capture waits for its reads in flight. */
  readOnly: V86Disk[];
}

export type WritableDrive = Exclude<DriveKind, "cdrom">;

/**
 * A user's machine as checkpoints know it: its drives in boot order, each by its base image's id
 * (a URL's identity with its size and first block, a file's name, size and time, or content
 * hash), and the id that stands for all of them: `own:` + SHA-256 of that list.
 */
export async function ownMachineIdentity(images: readonly UserImage[], hw: Omit<MachineIdentity, "guestImageId" | "drives">): Promise<MachineIdentity> {
  const drives = images.map((i) => ({ kind: i.kind, imageId: i.base.imageId }));
  const digest = await sha256Hex(new TextEncoder().encode(JSON.stringify(drives)));
  return { ...hw, guestImageId: `${OWN_MACHINE_PREFIX}${digest}`, drives };
}

/** The disks v86 gets: copy-on-write over each writable drive, read-only CD-ROMs. */
export async function attachUserDrives(
  images: readonly UserImage[],
  o: { secure: boolean; notice: (level: NoticeLevel, message: string) => void; /** A standby machine: its own fresh session layers. */ freshSession?: boolean },
): Promise<AttachedDrives> {
  const options: AttachedDrives["options"] = { boot_order: bootOrderOf(images.map((i) => i.kind)) };
  const sessions: DiskSession[] = [];
  const writableKinds: WritableDrive[] = [];
  const readOnly: V86Disk[] = [];
  try {
    for (const image of images) {
      if (image.kind === "cdrom") {
        const cdrom = new V86Disk(await Overlay.secure(image.base, null, null), { readOnly: true, onError: diskError(image, o.notice) });
        options.cdrom = cdrom;
        readOnly.push(cdrom);
        continue;
      }
      const session = await DiskSession.open({ base: image.base, secure: o.secure, notice: o.notice, freshSession: o.freshSession });
      sessions.push(session);
      writableKinds.push(image.kind);
      options[image.kind] = session.disk;
    }
  } catch (e) {
    await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
    throw e;
  }
  return { options, sessions, writableKinds, readOnly };
}

function diskError(image: UserImage, notice: (level: NoticeLevel, message: string) => void) {
  return (error: unknown, op: string) => notice("error", `${image.name}: ${op} failed: ${(error as Error).message ?? String(error)}`);
}

/** "a.img boots as a floppy (1.44 MB floppy size)." or, for several, each drive and the boot order. */
export function describeDrives(images: readonly UserImage[]): string {
  const how = (i: UserImage) => `${i.name} as a ${DRIVE_NAMES[i.kind]} (${i.reason})`;
  if (images.length === 1) return `${images[0].name} boots as a ${DRIVE_NAMES[images[0].kind]} (${images[0].reason}).`;
  return `Drives: ${images.map(how).join(", ")}; boots from the ${DRIVE_NAMES[images[0].kind]} first.`;
}
