/** The disk panel: what the session's disk costs, where it lives, and the wipe / secure controls. */
import type { DiskInfo } from "../../protocol";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function showDiskInfo(info: DiskInfo | undefined): void {
  $<HTMLButtonElement>("disk-wipe").disabled = !info;
  if (!info) {
    for (const id of ["disk-mode", "disk-overlay", "disk-base"]) $(id).textContent = "–";
    return;
  }
  $("disk-mode").textContent = info.lockedElsewhere
    ? "temporary (disk open in another tab)"
    : info.mode === "secure"
      ? "secure session: writes stay in memory"
      : "persistent overlay in IndexedDB";
  const unsaved = info.dirtyBytes > 0 ? `, ${formatBytes(info.dirtyBytes)} not yet saved` : "";
  $("disk-overlay").textContent = `${formatBytes(info.overlayBytes)} in ${info.overlayBlocks} blocks${unsaved}${info.storageFull ? " — STORAGE FULL" : ""}`;
  $("disk-base").textContent = `${formatBytes(info.baseCachedBytes)} cached, ${formatBytes(info.baseFetchedBytes)} downloaded, of ${formatBytes(info.imageBytes)}`;
}

export async function showStorage(): Promise<void> {
  const estimate = await navigator.storage?.estimate?.().catch(() => undefined);
  $("disk-quota").textContent = estimate?.quota
    ? `${formatBytes(estimate.usage ?? 0)} used of ${formatBytes(estimate.quota)} available`
    : "unknown";
}

/** Asks the browser not to evict the disk and checkpoints under storage pressure; shows the answer. */
export async function requestPersistence(): Promise<void> {
  const storage = navigator.storage;
  if (!storage?.persist) {
    $("disk-persist").textContent = "not supported by this browser";
    return;
  }
  const granted = (await storage.persisted()) || (await storage.persist().catch(() => false));
  $("disk-persist").textContent = granted
    ? "granted: the browser will not evict this data"
    : "not granted: the browser may evict this data under storage pressure";
}
