/**
 * What to boot. The UI, the automation API and the worker all speak this one shape; the worker
 * turns it into v86 options. Validation lives here so a bad config fails before a worker starts.
 */
import { Snap86Error } from "./errors";
import { FLOPPY_MAX_BYTES } from "./media-kind";
import { isRelayUrl } from "./network";
import { GUEST_NAMES, type GuestName } from "./guest-manifest";
export type DriveKind = "cdrom" | "hda" | "fda";

/** A user's own image: a file picked from disk (bytes travel to the worker) or a URL. */
export type ImageSource =
  | { kind?: ImageKind; url: string }
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
  /** Built-in Debian guest (public/guest/guest.json) unless an image is given. */
  image?: ImageSource;
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

export const MEMORY_CHOICES_MIB = [96, 128, 192, 256, 512] as const;
export const DEFAULT_CONFIG: MachineConfig = { memoryMiB: 128, vgaMemoryMiB: 4 };

export class ConfigError extends Snap86Error<"config-invalid"> {
  override name = "ConfigError";
  constructor(message: string) {
    super("config-invalid", message);
  }
}


/** Picks the drive for a user's image from its name (and size, for .img). */
export function driveForImage(name: string, size?: number): DriveKind {
  const lower = name.toLowerCase().split(/[?#]/)[0];
  if (lower.endsWith(".iso")) return "cdrom";
  if (/\.(fd|flp|vfd|ima)$/.test(lower)) return "fda";
  if (size !== undefined && size <= FLOPPY_MAX_BYTES && lower.endsWith(".img")) return "fda";
  return "hda";
}

export function validateMachineConfig(input: unknown): MachineConfig {
  if (typeof input !== "object" || input === null) throw new ConfigError("machine config must be an object");
  const c = input as Record<string, unknown>;
  const memoryMiB = c.memoryMiB ?? DEFAULT_CONFIG.memoryMiB;
  if (typeof memoryMiB !== "number" || !Number.isInteger(memoryMiB) || memoryMiB < 16 || memoryMiB > 2048) {
    throw new ConfigError("memoryMiB must be an integer between 16 and 2048");
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
  if (c.network !== undefined) config.network = validateNetwork(c.network);
  if (c.image !== undefined) config.image = validateImage(c.image);
  else if (memoryMiB <= 64) {
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
  if (i.bytes instanceof ArrayBuffer) {
    if (i.bytes.byteLength === 0) throw new ConfigError("the chosen image file is empty");
    if (kind === "fda" && i.bytes.byteLength > FLOPPY_MAX_BYTES) throw new ConfigError("a floppy image can be at most 2.88 MiB");
    return { kind, name: typeof i.name === "string" ? i.name : "image", bytes: i.bytes };
  }
  throw new ConfigError("image needs a url or bytes");
}
