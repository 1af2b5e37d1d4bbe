/**
 * The banner for what happens to this tab's IndexedDB databases (src/storage/): another tab
 * opened a newer version (this tab's connections are closed: it must be reloaded), our own
 * upgrade waits for an older tab, or the browser closed the storage. Unlike the boot notices it
 * stays until the page reloads: nothing this tab does can make it untrue.
 */
import { describeStorageNotice, type StorageNotice } from "../../storage/notices";
import { watchDatabases } from "../../storage/watch";

/**
 * Starts watching; `onClosed` runs once when this tab may no longer write (superseded or
 * terminated). Returns whether that has happened.
 */
export function watchStorage(onClosed: () => void): () => boolean {
  const banner = document.getElementById("storage-notice") as HTMLElement;
  let closed = false;
  const watching = watchDatabases((notice: StorageNotice) => {
    banner.textContent = describeStorageNotice(notice);
    banner.dataset.kind = notice.kind;
    banner.hidden = false;
    if (notice.kind === "blocked" || closed) return;
    closed = true;
    onClosed();
  });
  // Every open waits for the same upgrade: once ours went through, "blocked" is history.
  void watching.then(() => {
    if (banner.dataset.kind === "blocked") banner.hidden = true;
  });
  return () => closed;
}
