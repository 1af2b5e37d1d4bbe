/** What a machine is built from: firmware, kernel or the user's image, and the layered disk. */
import type { MachineConfig } from "../protocol/machine-config";
import { fetchWithProgress } from "../guest/fetch-with-progress";
import { loadKernel, type KernelFiles } from "../guest/guest-loader";
import { V86_WASM_URL } from "../v86/machine";
import type { V86File, V86Options } from "../v86/types";
import { V86_VERSION } from "../v86/version";
import { machineDevices } from "../v86/machine-devices";
import { DiskSession } from "./disk-session";
import type { MachineOwner } from "./machine-owner";
import { attachUserDrives, ownMachineIdentity, type UserImage } from "./user-drives";

const MIB = 1024 * 1024;

type OnProgress = (p: { label: string; loaded: number; total: number }) => void;

/** Also sets what the owner keeps of the build: identity, kernel loader, disk session, lazy support. */
/** `images`: the user's drives, opened and checked before the running machine stopped (set exactly when the config has drives). */
export async function buildMachineOptions(owner: MachineOwner, config: MachineConfig, forRestore: boolean, images?: UserImage[]): Promise<V86Options> {
  const progress: OnProgress = (p) => owner.emit({ type: "progress", progress: p });
  // Independent requests go out together (or went out already: a reload prefetches them).
  const inputs = owner.bootInputs.take(config, progress);
  owner.lazySupport = await inputs.lazy;
  // The loader worker and its IndexedDB handles take tens of ms to start: not on the first restore's path.
  if (owner.lazySupport.available) owner.checkpoints().lazy.warm();
  const base: Omit<V86Options, "bios" | "vga_bios"> = {
    ...(owner.lazySupport.available ? { wasm_fn: owner.lazySupport.wasm.wasm_fn as V86Options["wasm_fn"] } : { wasm_path: V86_WASM_URL }),
    ...machineDevices({ memoryBytes: config.memoryMiB * MIB, vgaMemoryBytes: config.vgaMemoryMiB * MIB }),
    ...owner.network.options(config.network),
    autostart: !forRestore,
  };
  owner.guestAutomation = owner.automationChannel = false;
  owner.secureSession = false;
  if (images) {
    const { bios, vgaBios } = await inputs.firmware;
    const drives = await attachUserDrives(images, { secure: config.disk === "secure", notice: (level, message) => owner.notice(level, message), freshSession: owner.standby });
    owner.userDrives = drives.sessions;
    owner.userDriveKinds = drives.writableKinds;
    owner.userReadOnly = drives.readOnly;
    owner.secureSession = config.disk === "secure";
    // The machine's identity (drives, boot order, memory, v86): its checkpoints, autosaves and
    // reset point are its own, and a restore refuses another machine's.
    owner.identity = await ownMachineIdentity(images, { memoryBytes: config.memoryMiB * MIB, vgaMemoryBytes: config.vgaMemoryMiB * MIB, v86Version: V86_VERSION });
    return { ...base, bios: { buffer: bios }, vga_bios: { buffer: vgaBios }, ...drives.options };
  }
  const { manifest, baseUrl } = await inputs.guest;
  // A machine booted for a restore needs no kernel until a reboot: fetching it then keeps its
  // 7 MiB off the network while a shared checkpoint's first chunks are wanted.
  let kernel: Promise<KernelFiles> | undefined;
  owner.kernel = () => (kernel ??= loadKernel(baseUrl, manifest, forRestore ? () => undefined : progress));
  owner.guestAutomation = owner.automationChannel = manifest.automationConsole === "ttyS1";
  owner.identity = {
    memoryBytes: config.memoryMiB * MIB,
    vgaMemoryBytes: config.vgaMemoryMiB * MIB,
    v86Version: V86_VERSION,
    guestImageId: manifest.inputsHash,
  };
  const disk = manifest.files.disk;
  const diskUrl = new URL(disk.path, baseUrl).href;
  const openDisk = async (): Promise<V86File> => {
    if (config.disk === "memory") return { buffer: await fetchWithProgress(diskUrl, "disk image", progress, disk.size) };
    owner.disk = await DiskSession.open({
      url: diskUrl,
      file: disk,
      blockHashes: await inputs.blockHashes(),
      secure: config.disk === "secure",
      freshSession: owner.standby,
      notice: (level, message) => owner.notice(level, message),
    });
    return owner.disk.disk;
  };
  // Firmware, kernel and disk at once; every one settles before a failure is thrown, so a disk
  // opened beside a failed download is owned (owner.disk) and closed by the failed boot.
  const [firmware, kernelFiles, hda] = await settledAll([inputs.firmware, forRestore ? undefined : owner.kernel(), openDisk()] as const);
  return {
    ...base,
    bios: { buffer: firmware.bios },
    vga_bios: { buffer: firmware.vgaBios },
    ...(kernelFiles ? kernelOptions(kernelFiles) : {}),
    hda,
  };
}

export function kernelOptions(k: KernelFiles): Pick<V86Options, "bzimage" | "initrd" | "cmdline"> {
  return { bzimage: { buffer: k.bzimage }, initrd: { buffer: k.initrd }, cmdline: k.cmdline };
}

/** Promise.all that waits for every promise before rejecting with the first failure. */
async function settledAll<T extends readonly unknown[]>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
