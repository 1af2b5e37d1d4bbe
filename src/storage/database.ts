/**
 * The one place that opens IndexedDB. A database is a name plus a list of migrations; migration
 * i upgrades version i to i + 1, so the version is the list's length and a profile written by any
 * earlier version upgrades step by step, in one versionchange transaction (all steps or none).
 * Every connection handles the three events the idb library leaves to its caller:
 * - blocking: a newer version wants to open (another tab). We close at once, so the upgrade is
 *   never held up; transactions already running still commit, so nothing saved is lost, and
 *   later writes fail instead of mixing old code with a new schema.
 * - blocked: our upgrade waits for an older tab that does not let go; reported so the page can
 *   say which tab to close.
 * - terminated: the browser dropped the connection.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from "idb";
import { reportStorageNotice } from "./notices";
import { Snap86Error } from "../protocol/errors";

export type UpgradeTransaction<S extends DBSchema> = IDBPTransaction<S, StoreNames<S>[], "versionchange">;

/**
 * One schema step. Synchronous steps run back to back; a step that moves records returns a
 * promise made only of this transaction's requests (awaiting anything else would let the
 * transaction commit early).
 */
export type Migration<S extends DBSchema> = (db: IDBPDatabase<S>, tx: UpgradeTransaction<S>) => void | Promise<void>;

export interface DatabaseSchema<S extends DBSchema> {
  /** The name the app uses; tests open the same schema under other names. */
  readonly name: string;
  /** migrations[i]: version i to i + 1. Append only: a released step never changes. */
  readonly migrations: readonly Migration<S>[];
}

export function schemaVersion(schema: { readonly migrations: readonly unknown[] }): number {
  return schema.migrations.length;
}

/** This tab runs older code than the database it tries to open: another tab upgraded it. */
export class StorageSupersededError extends Snap86Error<"storage-superseded"> {
  override name = "StorageSupersededError";
  constructor(readonly database: string) {
    super("storage-superseded", "snap86 was updated in another tab: reload this one", { detail: { database } });
  }
}

function runMigrations<S extends DBSchema>(steps: readonly Migration<S>[], db: IDBPDatabase<S>, tx: UpgradeTransaction<S>, from: number, to: number): Promise<void> | undefined {
  for (let version = from; version < to; version++) {
    const pending = steps[version](db, tx);
    if (pending) return pending.then(() => runMigrations(steps, db, tx, version + 1, to));
  }
  return undefined;
}

export async function openDatabase<S extends DBSchema>(schema: DatabaseSchema<S>, name: string = schema.name): Promise<IDBPDatabase<S>> {
  const version = schemaVersion(schema);
  let failed: { error: unknown } | undefined;
  try {
    return await openDB<S>(name, version, {
      upgrade(db, oldVersion, _newVersion, tx) {
        const abort = (error: unknown) => {
          failed = { error };
          tx.done.catch(() => undefined); // the open's rejection says why; this one says "aborted"
          tx.abort(); // the database stays at oldVersion with every record it had
        };
        try {
          runMigrations(schema.migrations, db, tx, oldVersion, version)?.catch(abort);
        } catch (error) {
          abort(error);
        }
      },
      blocked(current) {
        reportStorageNotice({ kind: "blocked", database: name, version, oldVersion: current });
      },
      blocking(current, newVersion, event) {
        // The event's own connection: it exists before openDB's promise hands it to us.
        (event.target as IDBDatabase).close();
        reportStorageNotice({ kind: "superseded", database: name, version: current, newVersion });
      },
      terminated() {
        reportStorageNotice({ kind: "terminated", database: name });
      },
    });
  } catch (error) {
    if (failed) throw failed.error;
    if (error instanceof DOMException && error.name === "VersionError") {
      reportStorageNotice({ kind: "superseded", database: name, version, newVersion: null });
      throw new StorageSupersededError(name);
    }
    throw error;
  }
}
