/**
 * Fetches the built-in guest (guest.json and the files it names) and verifies every file against
 * the manifest, so a stale or half-copied guest folder fails loudly instead of booting garbage.
 */
import { parseBlockHashList, parseGuestManifest, type BlockHashList, type GuestFile, type GuestManifest } from "../protocol/guest-manifest";
import type { Progress } from "../protocol";
import { fetchWithProgress, httpLoadCode, LoadError, sha256Hex } from "./fetch-with-progress";

export async function loadGuestManifest(guestUrl: string): Promise<{ manifest: GuestManifest; baseUrl: string }> {
  let response: Response;
  try {
    response = await fetch(guestUrl, { cache: "no-cache" });
  } catch (e) {
    throw new LoadError("image-unreachable", `Could not load the guest manifest ${guestUrl}: ${(e as Error).message}`, { url: guestUrl });
  }
  if (!response.ok) {
    throw new LoadError(
      httpLoadCode(response.status),
      `Could not load the guest manifest ${guestUrl}: HTTP ${response.status}` + (response.status === 404 ? " (run `npm run build:guest`)" : ""),
      { url: guestUrl, status: response.status },
    );
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new LoadError("guest-invalid", `The guest manifest ${guestUrl} is not valid JSON`, { url: guestUrl });
  }
  const baseUrl = new URL(".", response.url || new URL(guestUrl, self.location.href)).href;
  return { manifest: parseGuestManifest(json), baseUrl };
}

async function loadVerified(baseUrl: string, file: GuestFile, label: string, onProgress: (p: Progress) => void) {
  const data = await fetchWithProgress(new URL(file.path, baseUrl).href, label, onProgress, file.size);
  if (data.byteLength !== file.size || (await sha256Hex(data)) !== file.sha256) {
    throw new LoadError("guest-invalid", `${label} does not match guest.json (stale build? run \`npm run build:guest\`)`);
  }
  return data;
}

/** BIOS files only: enough to boot a user's own image. */
export async function loadFirmware(baseUrl: string, manifest: GuestManifest, onProgress: (p: Progress) => void) {
  const [bios, vgaBios] = await Promise.all([
    loadVerified(baseUrl, manifest.files.bios, "BIOS", onProgress),
    loadVerified(baseUrl, manifest.files.vgaBios, "VGA BIOS", onProgress),
  ]);
  return { bios, vgaBios };
}

export interface KernelFiles {
  bzimage: ArrayBuffer;
  initrd: ArrayBuffer;
  cmdline: string;
}

export function loadKernel(baseUrl: string, manifest: GuestManifest, onProgress: (p: Progress) => void): Promise<KernelFiles> {
  return Promise.all([
    loadVerified(baseUrl, manifest.files.bzimage, "kernel", onProgress),
    loadVerified(baseUrl, manifest.files.initrd, "initrd", onProgress),
  ]).then(([bzimage, initrd]) => ({ bzimage, initrd, cmdline: manifest.cmdline }));
}


/** The per-block sha256 list of the root disk, checked against guest.json. */
export async function loadBlockHashes(baseUrl: string, manifest: GuestManifest): Promise<BlockHashList> {
  const disk = manifest.files.disk;
  const url = new URL(disk.blocks, baseUrl).href;
  const response = await fetch(url).catch((e: Error) => {
    throw new LoadError("image-unreachable", `Could not load the disk's block hashes ${url}: ${e.message}`, { url });
  });
  if (!response.ok) throw new LoadError(httpLoadCode(response.status), `Could not load the disk's block hashes ${url}: HTTP ${response.status}`, { url, status: response.status });
  return parseBlockHashList(await response.json(), { blockSize: disk.blockSize, size: disk.size });
}
