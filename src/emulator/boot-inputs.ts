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
import { learnKernelLayout } from "../v86/guest-rng";

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
  // Its clones are reseeded with the layout its build read from the kernel (src/v86/guest-rng.ts).
  void guest.then(({ manifest }) => manifest.kernelRng && learnKernelLayout(manifest.kernelRelease, manifest.kernelRng), () => undefined);
  const firmware = guest.then(({ manifest, baseUrl }) => loadFirmware(baseUrl, manifest, progress));
  let hashes: ReturnType<typeof loadBlockHashes> | undefined;
  const blockHashes = () => (hashes ??= guest.then(({ manifest, baseUrl }) => loadBlockHashes(baseUrl, manifest)));
  // Whoever uses them awaits them; one nobody uses must not be reported as unhandled.
  for (const p of [guest, firmware]) p.catch(() => undefined);
  return { lazy, guest, firmware, blockHashes };
}

/** A prefetch older than this is not used: a boot long after the page loaded reads the guest anew. */
const FRESH_MS = 30_000;

export class BootInputsAhead {
  readonly #ahead = new Map<string, { inputs: BootInputs; at: number }>();

  /** Starts fetching what a boot of `config` will need. */
  prefetch(config: MachineConfig): void {
    const url = guestUrlOf(config);
    if (this.#fresh(url)) return;
    const inputs = load(url, () => undefined);
    inputs.blockHashes().catch(() => undefined);
    this.#ahead.set(url, { inputs, at: performance.now() });
  }

  /** The prefetched inputs of this guest (once, while fresh), else fetched now with progress. */
  take(config: MachineConfig, progress: Progress): BootInputs {
    const url = guestUrlOf(config);
    const ahead = this.#fresh(url);
    this.#ahead.delete(url);
    return ahead ?? load(url, progress);
  }

  #fresh(url: string): BootInputs | undefined {
    const entry = this.#ahead.get(url);
    return entry && performance.now() - entry.at < FRESH_MS ? entry.inputs : undefined;
  }
}
