/**
 * What happens to this tab's databases that the page must tell the user about. Every connection
 * opened through database.ts reports here; listeners live in the realm (page or worker) that
 * opened it, so the page watches its own connections (watch.ts) to learn what the whole tab
 * learns: another tab's newer version reaches every connection of the origin at once.
 */
export type StorageNotice =
  /** Another tab opened a newer version (newVersion null: deleted it, or found it newer than us): this connection is closed. */
  | { kind: "superseded"; database: string; version: number; newVersion: number | null }
  /** Our upgrade waits until tabs still holding an older version close their connections. */
  | { kind: "blocked"; database: string; version: number; oldVersion: number }
  /** The browser closed the connection itself (storage cleared, disk error). */
  | { kind: "terminated"; database: string };

export type StorageNoticeListener = (notice: StorageNotice) => void;

const listeners = new Set<StorageNoticeListener>();

/** Returns the unsubscribe function. */
export function onStorageNotice(listener: StorageNoticeListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function reportStorageNotice(notice: StorageNotice): void {
  for (const listener of listeners) listener(notice);
}

/** The sentence the page shows. */
export function describeStorageNotice(notice: StorageNotice): string {
  switch (notice.kind) {
    case "superseded":
      return "snap86 was updated in another tab: reload this one. What was saved is kept; this tab saves nothing more.";
    case "blocked":
      return "snap86 was updated: close its other tabs (or reload them) so it can finish upgrading its storage.";
    case "terminated":
      return "The browser closed snap86's storage: reload the page. Changes after this are not saved.";
  }
}
