/**
 * The checkpoint manifest: everything needed to put a machine back, naming its bytes by hash.
 * It may arrive from outside (an imported .snap86 file, a shared link), so decodeManifest is a
 * strict validator: it accepts formats v1 and v2 (v2 adds a user machine's drives) and says
 * clearly why anything else is refused.
 * See docs/checkpoint-format.md for the meaning of each field.
 */
import { CheckpointFormatError, CheckpointIncompatibleError } from "./errors";

import { FORMAT_VERSION, isOwnMachine, type CheckpointManifest, type CheckpointSizes, type ChunkList, type DriveLayer, type FormatVersion, type MachineDrive, type MachineIdentity } from "../protocol/checkpoint-data";

// The data types are part of the thread contracts (src/protocol); the format's rules are here.
export { FORMAT_VERSION };
export type { ChunkList, CheckpointManifest, DriveLayer, MachineDrive, CheckpointSizes, HashAlgorithm, MachineIdentity, ManifestCodec, ThumbnailMime } from "../protocol/checkpoint-data";

const MAX_MEMORY = 4 * 1024 ** 3;
const MAX_DEVICE_STATE = 1024 ** 3;
const MAX_THUMBNAIL_BASE64 = 1024 * 1024;
const MAX_LABEL = 200;
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const HASH_RE = /^[0-9a-f]{64}$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const TOP_KEYS = [
  "formatVersion", "id", "parent", "label", "created", "machine", "chunkSize", "codec", "hashAlgorithm",
  "deviceState", "ram", "diskLayerId", "thumbnail", "sizes",
] as const;
/** Fields format v2 added: a v1 manifest with one of them is refused (v1 readers refuse them too). */
const V2_KEYS = ["driveLayers"] as const;
const DRIVE_KINDS = ["fda", "hda", "cdrom"] as const;
const LAYER_RE = /^[A-Za-z0-9_:.-]{1,128}$/;
/** One floppy, one hard disk, one CD-ROM (MAX_DRIVES). */
const MAX_MACHINE_DRIVES = 3;

export function encodeManifest(m: CheckpointManifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m));
}

function fail(msg: string): never {
  throw new CheckpointFormatError(`invalid checkpoint manifest: ${msg}`);
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(`${what} must be an object`);
  return v as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, keys: readonly string[], what: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${what} has an unknown field "${k}"`);
}

function int(v: unknown, what: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) fail(`${what} must be an integer in ${min}..${max}`);
  return v;
}

function str(v: unknown, what: string, max: number, re?: RegExp): string {
  if (typeof v !== "string" || v.length > max || (re && !re.test(v))) fail(`${what} is not a valid string`);
  return v;
}

function chunkList(v: unknown, what: string, chunkSize: number, maxLength: number): ChunkList {
  const o = obj(v, what);
  onlyKeys(o, ["length", "chunks"], what);
  const length = int(o.length, `${what}.length`, 0, maxLength);
  if (!Array.isArray(o.chunks)) fail(`${what}.chunks must be an array`);
  const expected = Math.ceil(length / chunkSize);
  if (o.chunks.length !== expected) fail(`${what} has ${o.chunks.length} chunks, ${expected} expected for ${length} bytes`);
  const chunks = o.chunks.map((h, i) => (h === null ? null : str(h, `${what}.chunks[${i}]`, 64, HASH_RE)));
  return { length, chunks };
}

/** Validates untrusted input (bytes of JSON, a JSON string, or an already parsed value). */
export function decodeManifest(input: Uint8Array | string | unknown): CheckpointManifest {
  let value: unknown = input;
  if (input instanceof Uint8Array || typeof input === "string") {
    const text = typeof input === "string" ? input : new TextDecoder("utf-8", { fatal: false }).decode(input);
    try {
      value = JSON.parse(text);
    } catch {
      fail("not JSON");
    }
  }
  const o = obj(value, "manifest");
  // Version first: a newer file should say so, not list the fields this version doesn't know.
  const version = o.formatVersion;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) fail("formatVersion is missing");
  if (version > FORMAT_VERSION) {
    throw new CheckpointFormatError(`checkpoint format v${version} is newer than this snap86 (v${FORMAT_VERSION})`);
  }
  const formatVersion = version as FormatVersion;
  onlyKeys(o, formatVersion >= 2 ? [...TOP_KEYS, ...V2_KEYS] : TOP_KEYS, "manifest");
  if (o.hashAlgorithm !== "sha256") fail(`unsupported hash algorithm ${JSON.stringify(o.hashAlgorithm)}`);
  if (o.codec !== "zstd") fail(`unsupported codec ${JSON.stringify(o.codec)}`);

  const chunkSize = int(o.chunkSize, "chunkSize", 4096, 4 * 1024 * 1024);
  if ((chunkSize & (chunkSize - 1)) !== 0) fail("chunkSize must be a power of two");

  const mo = obj(o.machine, "machine");
  onlyKeys(mo, formatVersion >= 2 ? ["memoryBytes", "vgaMemoryBytes", "v86Version", "guestImageId", "drives"] : ["memoryBytes", "vgaMemoryBytes", "v86Version", "guestImageId"], "machine");
  const machine: MachineIdentity = {
    memoryBytes: int(mo.memoryBytes, "machine.memoryBytes", 1, MAX_MEMORY),
    vgaMemoryBytes: int(mo.vgaMemoryBytes, "machine.vgaMemoryBytes", 0, 256 * 1024 * 1024),
    v86Version: str(mo.v86Version, "machine.v86Version", 64, /^[0-9A-Za-z.+-]+$/),
    guestImageId: str(mo.guestImageId, "machine.guestImageId", 256),
    ...(mo.drives !== undefined ? { drives: machineDrives(mo.drives) } : {}),
  };

  const ram = chunkList(o.ram, "ram", chunkSize, MAX_MEMORY);
  if (ram.length !== machine.memoryBytes) fail(`ram.length ${ram.length} differs from machine.memoryBytes ${machine.memoryBytes}`);
  const deviceState = chunkList(o.deviceState, "deviceState", chunkSize, MAX_DEVICE_STATE);
  if (deviceState.length < 16) fail("deviceState is too short to be a v86 state");

  let thumbnail: CheckpointManifest["thumbnail"] = null;
  if (o.thumbnail !== null) {
    const t = obj(o.thumbnail, "thumbnail");
    onlyKeys(t, ["mime", "base64"], "thumbnail");
    if (t.mime !== "image/png" && t.mime !== "image/webp" && t.mime !== "image/jpeg") fail("thumbnail.mime must be image/png, image/webp or image/jpeg");
    thumbnail = { mime: t.mime, base64: str(t.base64, "thumbnail.base64", MAX_THUMBNAIL_BASE64, BASE64_RE) };
  }

  const so = obj(o.sizes, "sizes");
  onlyKeys(so, ["ramBytes", "nonZeroBytes", "storedBytes", "newBytes"], "sizes");
  const big = Number.MAX_SAFE_INTEGER;
  const sizes: CheckpointSizes = {
    ramBytes: int(so.ramBytes, "sizes.ramBytes", 0, big),
    nonZeroBytes: int(so.nonZeroBytes, "sizes.nonZeroBytes", 0, big),
    storedBytes: int(so.storedBytes, "sizes.storedBytes", 0, big),
    newBytes: int(so.newBytes, "sizes.newBytes", 0, big),
  };

  const diskLayerId = o.diskLayerId === null ? null : str(o.diskLayerId, "diskLayerId", 128, LAYER_RE);
  const driveLayers = o.driveLayers === undefined ? undefined : driveLayerList(o.driveLayers, diskLayerId);

  return {
    formatVersion,
    id: str(o.id, "id", 64, ID_RE),
    parent: o.parent === null ? null : str(o.parent, "parent", 64, ID_RE),
    label: str(o.label, "label", MAX_LABEL),
    created: int(o.created, "created", 0, big),
    machine,
    chunkSize,
    codec: "zstd",
    hashAlgorithm: "sha256",
    deviceState,
    ram,
    diskLayerId,
    ...(driveLayers ? { driveLayers } : {}),
    thumbnail,
    sizes,
  };
}

function machineDrives(v: unknown): MachineDrive[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_MACHINE_DRIVES) fail(`machine.drives must list 1..${MAX_MACHINE_DRIVES} drives`);
  return v.map((d, i) => {
    const o = obj(d, `machine.drives[${i}]`);
    onlyKeys(o, ["kind", "imageId"], `machine.drives[${i}]`);
    if (!DRIVE_KINDS.includes(o.kind as MachineDrive["kind"])) fail(`machine.drives[${i}].kind must be fda, hda or cdrom`);
    return { kind: o.kind as MachineDrive["kind"], imageId: str(o.imageId, `machine.drives[${i}].imageId`, 2048) };
  });
}

/** The first writable drive's layer is `diskLayerId` too: single-disk code (export, GC) reads that one. */
function driveLayerList(v: unknown, diskLayerId: string | null): DriveLayer[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > 2) fail("driveLayers must list 1..2 drives");
  const layers = v.map((d, i): DriveLayer => {
    const o = obj(d, `driveLayers[${i}]`);
    onlyKeys(o, ["kind", "diskLayerId"], `driveLayers[${i}]`);
    if (o.kind !== "fda" && o.kind !== "hda") fail(`driveLayers[${i}].kind must be fda or hda`);
    return { kind: o.kind as DriveLayer["kind"], diskLayerId: str(o.diskLayerId, `driveLayers[${i}].diskLayerId`, 128, LAYER_RE) };
  });
  if (layers[0].diskLayerId !== diskLayerId) fail("driveLayers[0] must be the manifest's diskLayerId");
  if (layers.length === 2 && layers[0].kind === layers[1].kind) fail("driveLayers names one drive twice");
  return layers;
}

/** Every disk layer a checkpoint names (its one disk, or each writable drive of a user's machine). */
export function manifestDiskLayers(m: Pick<CheckpointManifest, "diskLayerId" | "driveLayers">): string[] {
  if (m.driveLayers) return m.driveLayers.map((d) => d.diskLayerId);
  return m.diskLayerId === null ? [] : [m.diskLayerId];
}

/** The format version a manifest must say: the lowest that has every field it uses. */
export function formatVersionFor(m: Pick<CheckpointManifest, "machine" | "driveLayers">): FormatVersion {
  return m.machine.drives || m.driveLayers ? 2 : 1;
}

const mib = (n: number): string => `${+(n / 1024 / 1024).toFixed(2)} MiB`;

/** Throws CheckpointIncompatibleError if `m` cannot be restored into a machine like `machine`. */
export function checkRestorable(m: CheckpointManifest, machine: MachineIdentity): void {
  const c = m.machine;
  if (c.memoryBytes !== machine.memoryBytes) {
    throw new CheckpointIncompatibleError(`this checkpoint needs ${mib(c.memoryBytes)} of RAM, the machine has ${mib(machine.memoryBytes)}`);
  }
  if (c.vgaMemoryBytes !== machine.vgaMemoryBytes) {
    throw new CheckpointIncompatibleError(`this checkpoint needs ${mib(c.vgaMemoryBytes)} of video memory, the machine has ${mib(machine.vgaMemoryBytes)}`);
  }
  if (c.v86Version !== machine.v86Version) {
    throw new CheckpointIncompatibleError(`this checkpoint was made with v86 ${c.v86Version}; this snap86 runs v86 ${machine.v86Version}, whose saved state layout may differ`);
  }
  if (c.guestImageId !== machine.guestImageId) {
    throw new CheckpointIncompatibleError(`this checkpoint belongs to another machine (${describeMachine(c)}), not the one running (${describeMachine(machine)})`);
  }
}

/** For messages: the built-in guest, or a user's drives (their images' names). */
export function describeMachine(m: MachineIdentity): string {
  if (!m.drives) return isOwnMachine(m.guestImageId) ? "your own image" : "the built-in guest";
  return m.drives.map((d) => `${d.kind} ${imageName(d.imageId)}`).join(", ");
}

/** "url:http://h/a.img#size#..." -> "a.img"; "file:a.img#size#mtime" -> "a.img". */
function imageName(imageId: string): string {
  const body = imageId.replace(/^(url|file|sha256):/, "").split("#")[0];
  return body.split("/").pop() || body.slice(0, 16);
}

/** All distinct chunk hashes a manifest references. */
export function manifestChunkHashes(m: CheckpointManifest): Set<string> {
  const out = new Set<string>();
  for (const h of m.ram.chunks) if (h) out.add(h);
  for (const h of m.deviceState.chunks) if (h) out.add(h);
  return out;
}
