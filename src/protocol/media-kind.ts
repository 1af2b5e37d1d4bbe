/**
 * Which drive a user's image belongs in, from what it holds rather than its name: an ISO 9660
 * signature means a CD-ROM, an exact floppy geometry means a floppy, a partition table or any
 * other size means a hard disk. The name only decides between readings the bytes leave open
 * (a boot sector on a floppy-sized file that is named .hdd). Shown to the user before booting,
 * and a choice they make always wins.
 */
import type { DriveKind } from "./machine-config";

/** Bytes of the head the detection reads: up to the first ISO 9660 volume descriptor. */
export const MEDIA_HEAD_BYTES = 0x8006;

const KIB = 1024;
/** 2.88 MiB: the largest floppy v86 emulates. */
export const FLOPPY_MAX_BYTES = 2880 * KIB;
/** Floppy sizes v86 emulates (geometry from size), 160 KiB (5.25" SS) to 2.88 MiB (ED), DMF included. */
export const FLOPPY_SIZES: ReadonlyMap<number, string> = new Map([
  [160 * KIB, "160 KB"],
  [180 * KIB, "180 KB"],
  [320 * KIB, "320 KB"],
  [360 * KIB, "360 KB"],
  [720 * KIB, "720 KB"],
  [1200 * KIB, "1.2 MB"],
  [1440 * KIB, "1.44 MB"],
  [1680 * KIB, "1.68 MB (DMF)"],
  [1722 * KIB, "1.72 MB"],
  [FLOPPY_MAX_BYTES, "2.88 MB"],
]);

/** Names only floppies carry; `.img` is left to the size (a floppy or a hard disk dump). */
const FLOPPY_NAMES = /\.(ima|vfd|dsk|flp|fd)$/;
const DISK_NAMES = /\.(hdd|hd|vhd|raw|qcow)$/;

/** A file name or URL, lower case, without query or fragment. */
function bareName(name: string): string {
  return name.toLowerCase().split(/[?#]/)[0];
}

/**
 * What a name (and the size, when known) says, alone: the one name rule, used before the content
 * is read (a URL typed in the page) and by detectMediaKind where the content leaves it open.
 * Undefined: the name says nothing (`.bin`, no extension).
 */
export function kindFromName(name: string, size?: number): DriveKind | undefined {
  const lower = bareName(name);
  if (lower.endsWith(".iso")) return "cdrom";
  if (DISK_NAMES.test(lower)) return "hda";
  const fitsFloppy = size === undefined || (size <= FLOPPY_MAX_BYTES && size % 512 === 0);
  if (FLOPPY_NAMES.test(lower)) return fitsFloppy ? "fda" : "hda";
  if (lower.endsWith(".img")) return size !== undefined && fitsFloppy ? "fda" : "hda";
  return undefined;
}

export interface MediaGuess {
  kind: DriveKind;
  /** Why, in words for the page: "ISO 9660 signature", "1.44 MB floppy size, boot sector". */
  reason: string;
}

function hasIsoSignature(head: Uint8Array): boolean {
  const at = 0x8001;
  return head.byteLength >= at + 5 && String.fromCharCode(...head.subarray(at, at + 5)) === "CD001";
}

function hasBootSignature(head: Uint8Array): boolean {
  return head.byteLength >= 512 && head[510] === 0x55 && head[511] === 0xaa;
}

/** An MBR partition table: four 16-byte entries at 446, each empty or with a valid boot flag and a type. */
function hasPartitionTable(head: Uint8Array): boolean {
  if (!hasBootSignature(head)) return false;
  let used = 0;
  for (let i = 0; i < 4; i++) {
    const e = 446 + 16 * i;
    const flag = head[e];
    const type = head[e + 4];
    if (flag !== 0x00 && flag !== 0x80) return false;
    if (type !== 0) used++;
  }
  return used > 0;
}

/**
 * `head`: the first MEDIA_HEAD_BYTES of the image (fewer if it is smaller); `size`: its length
 * in bytes; `name`: its file name or URL path, if known.
 */
export function detectMediaKind(head: Uint8Array, size: number, name = ""): MediaGuess {
  const floppy = FLOPPY_SIZES.get(size);
  const boot = hasBootSignature(head) ? ", boot sector" : "";
  const named = kindFromName(name, size);
  // A hybrid (an ISO 9660 image that also starts with a boot sector, often with a partition table
  // for USB sticks) of an exact floppy size is a floppy made by an ISO tool, GRUB's rescue floppy
  // among them: it boots from the floppy. At any other size the ISO signature decides.
  if (hasIsoSignature(head)) {
    if (floppy && boot && named !== "cdrom") return { kind: "fda", reason: `${floppy} floppy size, boot sector (a hybrid ISO)` };
    return { kind: "cdrom", reason: "ISO 9660 signature" };
  }
  if (floppy && !hasPartitionTable(head) && named !== "hda") return { kind: "fda", reason: `${floppy} floppy size${boot}` };
  if (hasPartitionTable(head)) return { kind: "hda", reason: "partition table" };
  if (named === "cdrom") return { kind: "cdrom", reason: "named .iso (no ISO 9660 signature found)" };
  if (named === "fda") return { kind: "fda", reason: `floppy name, ${Math.round(size / KIB)} KB` };
  return { kind: "hda", reason: floppy ? `${floppy} size, but named as a hard disk` : `hard disk (${describeSize(size)}${boot})` };
}

function describeSize(size: number): string {
  return size >= 1024 * 1024 ? `${(size / (1024 * 1024)).toFixed(1)} MB` : `${Math.round(size / KIB)} KB`;
}

/** Total size from `Content-Range: bytes 0-65535/123456` (null when absent or unknown: `*`). */
export function sizeFromContentRange(header: string | null): number | null {
  const m = /\/(\d+)\s*$/.exec(header ?? "");
  return m ? Number(m[1]) : null;
}

export const DRIVE_NAMES: Record<DriveKind, string> = { fda: "floppy", hda: "hard disk", cdrom: "CD-ROM" };
