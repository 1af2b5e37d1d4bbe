/**
 * `guest.json`, written by scripts/build-guest.mjs next to the guest files under public/guest/.
 * The app reads it to know what to boot; the disk layer reads `disk.blocks` to verify every
 * block it fetches from the base image.
 */
import { Snap86Error } from "./errors";

/**
 * Where the app serves the built-in guest's guest.json: what a machine boots unless its config
 * names another, and the guest a share link must have been made on to open here.
 */
export const DEFAULT_GUEST_URL = "/guest/guest.json";

/**
 * The built-in guests: "busybox" (kernel + busybox, boots fastest, the default) and "debian"
 * (a Debian bookworm userland with python3 and curl on the same kernel, scripts/build-debian-guest.mjs).
 */
export type GuestName = "busybox" | "debian";
export const GUEST_URLS: Readonly<Record<GuestName, string>> = { busybox: DEFAULT_GUEST_URL, debian: "/guest/debian/guest.json" };
export const GUEST_NAMES = Object.keys(GUEST_URLS) as GuestName[];

export interface GuestFile {
  /** Path relative to guest.json. */
  path: string;
  size: number;
  sha256: string;
}

export interface GuestDiskFile extends GuestFile {
  /** Path (relative to guest.json) of a JSON file `{ blockSize, sha256: string[] }`. */
  blocks: string;
  blockSize: number;
}

export interface GuestPackage {
  name: string;
  version: string;
  arch: string;
}

export interface GuestManifest {
  schema: 1;
  name: string;
  packages: GuestPackage[];
  kernelRelease: string;
  cmdline: string;
  memoryMiB: number;
  /** Modules the initramfs loads, in load order. */
  modules: string[];
  files: {
    bios: GuestFile;
    vgaBios: GuestFile;
    bzimage: GuestFile;
    initrd: GuestFile;
    disk: GuestDiskFile;
  };
  /** Hash of everything the build depends on; an unchanged value means a rebuild is a no-op. */
  inputsHash: string;
  /**
   * The serial port with the guest's automation shell (no echo, no prompt): the page's own
   * commands travel there, unseen in the user's terminal (ttyS0). Absent in older guests.
   */
  automationConsole?: AutomationConsole;
  /**
   * Where the kernel's crng_reseed() lies, read from a boot by the guest build
   * (scripts/guest/kernel-rng-layout.mjs): clones of the guest get fresh randomness with it
   * (src/v86/guest-rng.ts). Absent in older guests.
   */
  kernelRng?: KernelRngLayout;
}

/** crng_reseed's place in the kernel image; KASLR moves both symbols by one offset. */
export interface KernelRngLayout {
  /** crng_reseed minus entry_SYSENTER_32. */
  readonly reseedFromSysenter: number;
  /** Length of crng_reseed (distance to the next symbol). */
  readonly reseedBytes: number;
}

/** The only automation port v86 and the guest agree on: COM2. */
export type AutomationConsole = "ttyS1";

export interface BlockHashList {
  blockSize: number;
  sha256: string[];
}

export class ManifestError extends Snap86Error<"guest-invalid"> {
  override name = "ManifestError";
  constructor(message: string) {
    super("guest-invalid", message);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== "string" || v.length === 0) throw new ManifestError(`${where}.${key} must be a non-empty string`);
  return v;
}

function num(o: Record<string, unknown>, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new ManifestError(`${where}.${key} must be a non-negative integer`);
  }
  return v;
}

function file(v: unknown, where: string): GuestFile {
  if (!isRecord(v)) throw new ManifestError(`${where} is missing`);
  const path = str(v, "path", where);
  if (path.includes("..") || path.startsWith("/")) throw new ManifestError(`${where}.path must stay inside the guest folder`);
  const sha256 = str(v, "sha256", where);
  if (!HEX64.test(sha256)) throw new ManifestError(`${where}.sha256 is not a sha256 hex digest`);
  return { path, size: num(v, "size", where), sha256 };
}

/** Validates untrusted JSON (a user may point the app at any guest.json) into a GuestManifest. */
export function parseGuestManifest(json: unknown): GuestManifest {
  if (!isRecord(json)) throw new ManifestError("guest.json is not a JSON object");
  if (json.schema !== 1) throw new ManifestError(`guest.json schema ${String(json.schema)} is not supported (expected 1)`);
  const files = json.files;
  if (!isRecord(files)) throw new ManifestError("guest.json has no files");
  const disk = file(files.disk, "files.disk");
  const diskRaw = files.disk as Record<string, unknown>;
  const blockSize = num(diskRaw, "blockSize", "files.disk");
  if (blockSize < 512 || (blockSize & (blockSize - 1)) !== 0) {
    throw new ManifestError("files.disk.blockSize must be a power of two >= 512");
  }
  const packages = json.packages;
  if (!Array.isArray(packages)) throw new ManifestError("guest.json packages must be a list");
  const modules = json.modules;
  if (!Array.isArray(modules) || !modules.every((m) => typeof m === "string")) {
    throw new ManifestError("guest.json modules must be a list of names");
  }
  const memoryMiB = num(json, "memoryMiB", "guest");
  return {
    schema: 1,
    name: str(json, "name", "guest"),
    packages: packages.map((p, i) => {
      if (!isRecord(p)) throw new ManifestError(`packages[${i}] is not an object`);
      const where = `packages[${i}]`;
      return { name: str(p, "name", where), version: str(p, "version", where), arch: str(p, "arch", where) };
    }),
    kernelRelease: str(json, "kernelRelease", "guest"),
    cmdline: str(json, "cmdline", "guest"),
    memoryMiB,
    modules: modules as string[],
    files: {
      bios: file(files.bios, "files.bios"),
      vgaBios: file(files.vgaBios, "files.vgaBios"),
      bzimage: file(files.bzimage, "files.bzimage"),
      initrd: file(files.initrd, "files.initrd"),
      disk: { ...disk, blockSize, blocks: str(diskRaw, "blocks", "files.disk") },
    },
    inputsHash: str(json, "inputsHash", "guest"),
    // An unknown port is ignored, not refused: the page then runs its commands on ttyS0 as before.
    ...(json.automationConsole === "ttyS1" ? { automationConsole: "ttyS1" as const } : {}),
    ...kernelRngOf(json.kernelRng),
  };
}

/** A malformed layout is dropped, not refused: the guest boots, its clones just get no reseed. */
function kernelRngOf(raw: unknown): { kernelRng?: KernelRngLayout } {
  if (!isRecord(raw)) return {};
  const { reseedFromSysenter, reseedBytes } = raw;
  if (!Number.isSafeInteger(reseedFromSysenter) || !Number.isSafeInteger(reseedBytes)) return {};
  if ((reseedBytes as number) <= 0 || (reseedBytes as number) > 4096) return {};
  return { kernelRng: { reseedFromSysenter: reseedFromSysenter as number, reseedBytes: reseedBytes as number } };
}

export function parseBlockHashList(json: unknown, expected: { blockSize: number; size: number }): BlockHashList {
  if (!isRecord(json)) throw new ManifestError("block hash list is not a JSON object");
  const blockSize = num(json, "blockSize", "blocks");
  if (blockSize !== expected.blockSize) {
    throw new ManifestError(`block hash list is for ${blockSize}-byte blocks, guest.json says ${expected.blockSize}`);
  }
  const list = json.sha256;
  const count = Math.ceil(expected.size / blockSize);
  if (!Array.isArray(list) || list.length !== count) throw new ManifestError(`block hash list must have ${count} entries`);
  for (const h of list) if (typeof h !== "string" || !HEX64.test(h)) throw new ManifestError("block hash list has a bad digest");
  return { blockSize, sha256: list as string[] };
}
