/**
 * What to boot. The UI, the automation API and the worker all speak this one shape; the worker
 * turns it into v86 options. Validation lives here so a bad config fails before a worker starts.
 */
import { Snap86Error } from "./errors";
import { FLOPPY_MAX_BYTES } from "./media-kind";
import { isRelayUrl } from "./network";
import { GUEST_NAMES, type GuestName } from "./guest-manifest";
export type DriveKind = "cdrom" | "hda" | "fda";

/**
 * A user's own image: a URL (read by HTTP Range where the server allows it, whole otherwise), a
 * file picked from disk (`file`: read by slices as the guest needs them, never whole), or bytes
 * already in memory.
 */
export type ImageSource =
  | { kind?: ImageKind; url: string }
  | { kind?: ImageKind; name: string; file: Blob }
  /** A file chosen before and kept in this browser (its id from keptImages()). */
  | { kind?: ImageKind; stored: string }
  | { kind?: ImageKind; name: string; bytes: ArrayBuffer };

/** The drive to put an image in; "auto" (or none) decides from its content (src/protocol/media-kind.ts). */
export type ImageKind = DriveKind | "auto";

/**
 * Where the built-in guest's writes go: `persistent` overlay in IndexedDB (survives reload),
 * `secure` overlay in memory only (nothing of the session reaches storage), or `memory`: v86's
 * plain in-memory copy of the whole image (no overlay; used to compare speed).
 */
export type DiskMode = "persistent" | "secure" | "memory";
export const DISK_MODES: readonly DiskMode[] = ["persistent", "secure", "memory"];

export interface MachineConfig {
  memoryMiB: number;
  vgaMemoryMiB: number;
  disk?: DiskMode;
  /** Built-in Debian guest (public/guest/guest.json) unless an image (or drives) is given. */
  image?: ImageSource;
  /**
   * Several drives at once (a floppy, a hard disk, a CD-ROM: one image each), in boot order: the
   * BIOS tries the first drive listed first. `image` is the one-drive form of the same thing.
   */
  drives?: ImageSource[];
  /** Which built-in guest (default "busybox"); ignored when guestUrl or an image is given. */
  guest?: GuestName;
  /** URL of the guest manifest; defaults to the bundled guest. */
  guestUrl?: string;
  /** The network card's cable (default plugged in) and backend (default v86's fetch adapter). */
  network?: NetworkConfig;
}

export interface NetworkConfig {
  enabled?: boolean;
  /** A WebSocket relay (wss://, ws://, wisp://, wisps://) instead of the fetch backend. */
  relayUrl?: string;
}

/**
 * A picked file's identity: the id of its copy kept in IndexedDB and the base-image id its
 * overlays name, so a reload finds both by the file alone (name, size, modification time).
 */
export function fileImageId(name: string, file: Blob): string {
  const modified = typeof File !== "undefined" && file instanceof File ? file.lastModified : 0;
  return `file:${name}#${file.size}#${modified}`;
}

/** One floppy, one hard disk, one CD-ROM. */
export const MAX_DRIVES = 3;

/** The user's drives in boot order (empty: the built-in guest). */
export function userDrives(config: Pick<MachineConfig, "image" | "drives">): ImageSource[] {
  return config.drives ?? (config.image ? [config.image] : []);
}

/**
 * v86's ceiling: it sizes guest RAM with a signed 32-bit value, so 2048 MiB wraps (measured: the
 * machine fails to start) and 2047 MiB boots. Captures and resets cost what the guest writes,
 * not its RAM size (docs/memory-tracking.md), so the whole range is offered.
 */
export const MAX_MEMORY_MIB = 2047;
export const MEMORY_CHOICES_MIB = [96, 128, 192, 256, 512, 1024, MAX_MEMORY_MIB] as const;
export const DEFAULT_CONFIG: MachineConfig = { memoryMiB: 128, vgaMemoryMiB: 4 };

export class ConfigError extends Snap86Error<"config-invalid"> {
  override name = "ConfigError";
  constructor(message: string) {
    super("config-invalid", message);
  }
}


export function validateMachineConfig(input: unknown): MachineConfig {
  if (typeof input !== "object" || input === null) throw new ConfigError("machine config must be an object");
  const c = input as Record<string, unknown>;
  const memoryMiB = c.memoryMiB ?? DEFAULT_CONFIG.memoryMiB;
  if (typeof memoryMiB !== "number" || !Number.isInteger(memoryMiB) || memoryMiB < 16 || memoryMiB > MAX_MEMORY_MIB) {
    throw new ConfigError(`memoryMiB must be an integer between 16 and ${MAX_MEMORY_MIB} (v86 cannot address 2 GiB of guest RAM or more)`);
  }
  const vgaMemoryMiB = c.vgaMemoryMiB ?? DEFAULT_CONFIG.vgaMemoryMiB;
  if (typeof vgaMemoryMiB !== "number" || ![1, 2, 4, 8, 16].includes(vgaMemoryMiB)) {
    throw new ConfigError("vgaMemoryMiB must be one of 1, 2, 4, 8, 16");
  }
  const config: MachineConfig = { memoryMiB, vgaMemoryMiB };
  if (c.disk !== undefined) {
    if (!DISK_MODES.includes(c.disk as DiskMode)) throw new ConfigError(`disk must be one of ${DISK_MODES.join(", ")}`);
    config.disk = c.disk as DiskMode;
  }
  if (c.guest !== undefined) {
    if (!GUEST_NAMES.includes(c.guest as GuestName)) throw new ConfigError(`guest must be one of ${GUEST_NAMES.join(", ")}`);
    config.guest = c.guest as GuestName;
  }
  if (c.guestUrl !== undefined) {
    if (typeof c.guestUrl !== "string" || c.guestUrl.length === 0) throw new ConfigError("guestUrl must be a URL string");
    config.guestUrl = c.guestUrl;
  }
  if (c.image !== undefined && c.drives !== undefined) throw new ConfigError("give image or drives, not both");
  if (c.network !== undefined) config.network = validateNetwork(c.network);
  if (c.image !== undefined) config.image = validateImage(c.image);
  else if (c.drives !== undefined) {
    if (!Array.isArray(c.drives) || c.drives.length === 0 || c.drives.length > MAX_DRIVES) {
      throw new ConfigError(`drives must list 1 to ${MAX_DRIVES} images (a floppy, a hard disk, a CD-ROM)`);
    }
    config.drives = c.drives.map(validateImage);
    const chosen = config.drives.map((d) => d.kind).filter((k) => k !== "auto");
    const twice = chosen.find((k, i) => chosen.indexOf(k) !== i);
    if (twice) throw new ConfigError(`two images for the same drive (${twice}): one image per drive`);
  } else if (memoryMiB <= 64) {
    // v86's bzImage loader puts the initrd at 64 MiB, so the built-in guest needs more.
    throw new ConfigError("the built-in Linux guest needs more than 64 MiB of memory");
  }
  return config;
}

function validateNetwork(input: unknown): NetworkConfig {
  if (typeof input !== "object" || input === null) throw new ConfigError("network must be an object");
  const n = input as Record<string, unknown>;
  const out: NetworkConfig = {};
  if (n.enabled !== undefined) {
    if (typeof n.enabled !== "boolean") throw new ConfigError("network.enabled must be true or false");
    out.enabled = n.enabled;
  }
  if (n.relayUrl !== undefined && n.relayUrl !== "") {
    if (typeof n.relayUrl !== "string" || !isRelayUrl(n.relayUrl)) {
      throw new ConfigError("network.relayUrl must be a WebSocket relay URL (wss://, ws://, wisps:// or wisp://)");
    }
    out.relayUrl = n.relayUrl;
  }
  return out;
}

function validateImage(input: unknown): ImageSource {
  if (typeof input !== "object" || input === null) throw new ConfigError("image must be an object");
  const i = input as Record<string, unknown>;
  const kind = i.kind ?? "auto";
  if (kind !== "cdrom" && kind !== "hda" && kind !== "fda" && kind !== "auto") throw new ConfigError("image.kind must be auto, cdrom, hda or fda");
  if (typeof i.url === "string") {
    let parsed: URL;
    try {
      parsed = new URL(i.url, "http://localhost/");
    } catch {
      throw new ConfigError(`image URL is not valid: ${i.url}`);
    }
    if (!["http:", "https:", "blob:"].includes(parsed.protocol)) {
      throw new ConfigError(`image URL must be http(s): ${i.url}`);
    }
    return { kind, url: i.url };
  }
  const name = typeof i.name === "string" ? i.name : "image";
  if (typeof i.stored === "string" && i.stored.length > 0) return { kind, stored: i.stored };
  if (typeof Blob !== "undefined" && i.file instanceof Blob) {
    if (i.file.size === 0) throw new ConfigError("the chosen image file is empty");
    if (kind === "fda" && i.file.size > FLOPPY_MAX_BYTES) throw new ConfigError("a floppy image can be at most 2.88 MiB");
    return { kind, name, file: i.file };
  }
  if (i.bytes instanceof ArrayBuffer) {
    if (i.bytes.byteLength === 0) throw new ConfigError("the chosen image file is empty");
    if (kind === "fda" && i.bytes.byteLength > FLOPPY_MAX_BYTES) throw new ConfigError("a floppy image can be at most 2.88 MiB");
    return { kind, name, bytes: i.bytes };
  }
  throw new ConfigError("image needs a url, a file, a stored id or bytes");
}
