/** One snapshot of the numbers the UI shows about a disk. */
import type { BaseImageStats } from "./base-image";
import type { Overlay, OverlayStats } from "./overlay";

export interface DiskStats {
  overlay: OverlayStats;
  base: BaseImageStats;
  /** Layers below the overlay (0: directly on the base image). */
  depth: number;
}

export function diskStats(overlay: Overlay): DiskStats {
  return { overlay: overlay.stats(), base: overlay.chain.base.stats(), depth: overlay.chain.layers.length };
}
