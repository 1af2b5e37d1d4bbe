/**
 * What every boot fetches before it can build its machine: whether lazy restore works here, the
 * guest's manifest, the firmware and (for the built-in guest's disk) the block hashes. A reload
 * asks for them (`prefetch`) while it looks up the session to resume, so the boot that follows
 * finds them in flight or done instead of starting them; each prefetch serves one boot.
 */
import { GUEST_URLS } from "../protocol/guest-manifest";
import type { MachineConfig } from "../protocol/machine-config";
import { loadBlockHashes, loadFirmware, loadGuestManifest } from "../guest/guest-loader";
import { detectLazySupport, type LazySupport } from "../v86/lazy-support";

type Progress = Parameters<typeof loadFirmware>[2];
type Guest = Awaited<ReturnType<typeof loadGuestManifest>>;

export interface BootInputs {
  lazy: Promise<LazySupport>;
  guest: Promise<Guest>;
  firmware: Promise<Awaited<ReturnType<typeof loadFirmware>>>;
  /** Only the built-in guest's disk needs them: started when asked for. */
  blockHashes(): ReturnType<typeof loadBlockHashes>;
}

export const guestUrlOf = (config: MachineConfig): string => config.guestUrl ?? GUEST_URLS[config.guest ?? "busybox"];

function load(guestUrl: string, progress: Progress): BootInputs {
  const lazy = detectLazySupport();
  const guest = loadGuestManifest(guestUrl);
  const firmware = guest.then(({ manifest, baseUrl }) => loadFirmware(baseUrl, manifest, progress));
  let hashes: ReturnType<typeof loadBlockHashes> | undefined;
  const blockHashes = () => (hashes ??= guest.then(({ manifest, baseUrl }) => loadBlockHashes(baseUrl, manifest)));
  // Whoever uses them awaits them; one nobody uses must not be reported as unhandled.
  for (const p of [guest, firmware]) p.catch(() => undefined);
  return { lazy, guest, firmware, blockHashes };
}

export class BootInputsAhead {
  readonly #ahead = new Map<string, BootInputs>();

  /** Starts fetching what a boot of `config` will need. */
  prefetch(config: MachineConfig): void {
    const url = guestUrlOf(config);
    if (this.#ahead.has(url)) return;
    const inputs = load(url, () => undefined);
    inputs.blockHashes().catch(() => undefined);
    this.#ahead.set(url, inputs);
  }

  /** The prefetched inputs of this guest (once), else fetched now with progress. */
  take(config: MachineConfig, progress: Progress): BootInputs {
    const url = guestUrlOf(config);
    const ahead = this.#ahead.get(url);
    this.#ahead.delete(url);
    return ahead ?? load(url, progress);
  }
}
