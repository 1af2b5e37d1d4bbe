/**
 * IndexedDB inspection from inside the page, for tests that must prove what is (not) stored.
 * The functions passed to page.evaluate run in the browser, so they are self-contained.
 */
import type { Page } from "@playwright/test";

/** Names of the object stores (as "db/store") whose records contain `needle` as bytes or text. */
export function findInIndexedDb(page: Page, needle: string): Promise<string[]> {
  return page.evaluate(async (needle) => {
    const target = new TextEncoder().encode(needle);
    const containsBytes = (hay: Uint8Array) => {
      outer: for (let i = 0; i + target.length <= hay.length; i++) {
        for (let j = 0; j < target.length; j++) if (hay[i + j] !== target[j]) continue outer;
        return true;
      }
      return false;
    };
    const contains = (v: unknown, depth = 0): boolean => {
      if (depth > 8 || v === null || v === undefined) return false;
      if (typeof v === "string") return v.includes(needle);
      if (v instanceof ArrayBuffer) return containsBytes(new Uint8Array(v));
      if (ArrayBuffer.isView(v)) return containsBytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      if (v instanceof Blob) return false; // none of snap86's stores keep Blobs
      if (typeof v === "object") return Object.values(v as object).some((x) => contains(x, depth + 1));
      return false;
    };
    const hits: string[] = [];
    for (const info of await indexedDB.databases()) {
      if (!info.name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open(info.name!);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      for (const store of Array.from(db.objectStoreNames)) {
        const values = await new Promise<unknown[]>((resolve, reject) => {
          const req = db.transaction(store).objectStore(store).getAll();
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        });
        if (values.some((v) => contains(v))) hits.push(`${info.name}/${store}`);
      }
      db.close();
    }
    return hits;
  }, needle);
}

/** Number of records in one object store (0 when the database or store does not exist). */
export function countRecords(page: Page, dbName: string, store: string): Promise<number> {
  return page.evaluate(
    async ([dbName, store]) => {
      if (!(await indexedDB.databases()).some((d) => d.name === dbName)) return 0;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open(dbName);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      try {
        if (!db.objectStoreNames.contains(store)) return 0;
        return await new Promise<number>((resolve, reject) => {
          const req = db.transaction(store).objectStore(store).count();
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        });
      } finally {
        db.close();
      }
    },
    [dbName, store] as const,
  );
}

/**
 * Writes one record of an existing database's store: `bytes` stored as an ArrayBuffer, or the
 * record deleted when `bytes` is null.
 */
export function writeRecord(page: Page, dbName: string, store: string, key: string | [string, number], bytes: number[] | null): Promise<void> {
  return page.evaluate(
    async ({ dbName, store, key, bytes }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open(dbName);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      try {
        await new Promise<void>((resolve, reject) => {
          const tx = db.transaction(store, "readwrite");
          if (bytes) tx.objectStore(store).put(new Uint8Array(bytes).buffer, key);
          else tx.objectStore(store).delete(key);
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        });
      } finally {
        db.close();
      }
    },
    { dbName, store, key, bytes },
  );
}
