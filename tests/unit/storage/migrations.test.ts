// The migration runner and connection events of src/storage/database.ts, on fake-indexeddb.
import "fake-indexeddb/auto";
import { openDB, type DBSchema } from "idb";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, schemaVersion, StorageSupersededError, type DatabaseSchema } from "../../../src/storage/database";
import { onStorageNotice, type StorageNotice } from "../../../src/storage/notices";

interface NotesV3 extends DBSchema {
  notes: { key: string; value: { text: string; words?: number }; indexes: { byWords: number } };
}

const unique = (() => {
  let n = 0;
  return (what: string) => `${what}-${process.pid}-${++n}`;
})();

const v1: DatabaseSchema<NotesV3>["migrations"][number] = (db) => {
  db.createObjectStore("notes");
};
/** 1 → 2 rewrites every record (a cursor over the upgrade transaction's own store). */
const v2: DatabaseSchema<NotesV3>["migrations"][number] = async (_db, tx) => {
  for (let cursor = await tx.objectStore("notes").openCursor(); cursor; cursor = await cursor.continue()) {
    await cursor.update({ ...cursor.value, words: cursor.value.text.split(" ").length });
  }
};
const v3: DatabaseSchema<NotesV3>["migrations"][number] = (_db, tx) => {
  tx.objectStore("notes").createIndex("byWords", "words");
};

const notices: StorageNotice[] = [];
const stopListening = onStorageNotice((n) => notices.push(n));
afterEach(() => {
  notices.length = 0;
});

describe("migrations", () => {
  it("the version is the number of steps; a new database runs them all", async () => {
    const schema: DatabaseSchema<NotesV3> = { name: unique("notes"), migrations: [v1, v2, v3] };
    expect(schemaVersion(schema)).toBe(3);
    const db = await openDatabase(schema);
    expect(db.version).toBe(3);
    expect([...db.transaction("notes").store.indexNames]).toEqual(["byWords"]);
    db.close();
  });

  it("upgrades an old profile step by step and keeps every record", async () => {
    const name = unique("notes");
    const old = await openDatabase<NotesV3>({ name, migrations: [v1] });
    await old.put("notes", { text: "one two three" }, "a");
    await old.put("notes", { text: "four" }, "b");
    old.close();
    const db = await openDatabase<NotesV3>({ name, migrations: [v1, v2, v3] });
    expect(await db.get("notes", "a")).toEqual({ text: "one two three", words: 3 });
    expect(await db.getAllKeysFromIndex("notes", "byWords", 1)).toEqual(["b"]);
    db.close();
  });

  it("a failing step leaves the database as it was, and says why", async () => {
    const name = unique("notes");
    const old = await openDatabase<NotesV3>({ name, migrations: [v1] });
    await old.put("notes", { text: "kept" }, "a");
    old.close();
    const broken = () => {
      throw new Error("step 2 is broken");
    };
    await expect(openDatabase<NotesV3>({ name, migrations: [v1, v3, broken] })).rejects.toThrow("step 2 is broken");
    const after = await openDB(name);
    expect(after.version).toBe(1);
    expect([...after.transaction("notes").store.indexNames]).toEqual([]); // step 1 → 2 rolled back too
    expect(await after.get("notes", "a")).toEqual({ text: "kept" });
    after.close();
  });
});

describe("another tab's newer version", () => {
  it("closes our connection, reports it, and keeps what was written before", async () => {
    const name = unique("notes");
    const ours = await openDatabase<NotesV3>({ name, migrations: [v1] });
    await ours.put("notes", { text: "saved" }, "a");
    // A write still running when the newer version arrives commits before the connection closes.
    const inFlight = ours.put("notes", { text: "in flight" }, "b");
    const newer = await openDatabase<NotesV3>({ name, migrations: [v1, v2] });
    await inFlight;
    expect(notices).toEqual([{ kind: "superseded", database: name, version: 1, newVersion: 2 }]);
    expect(() => ours.transaction("notes", "readwrite")).toThrow(); // this tab writes no more
    expect(await newer.getAll("notes")).toEqual([
      { text: "saved", words: 1 },
      { text: "in flight", words: 2 },
    ]);
    newer.close();
  });

  it("an old tab that does not let go blocks our upgrade, and we report it until it closes", async () => {
    const name = unique("notes");
    // What a tab of the code before src/storage did: no versionchange handler.
    const legacy = await openDB(name, 1, { upgrade: (d) => void d.createObjectStore("notes") });
    const opening = openDatabase<NotesV3>({ name, migrations: [v1, v2] });
    await expect.poll(() => notices).toEqual([{ kind: "blocked", database: name, version: 2, oldVersion: 1 }]);
    legacy.close();
    const db = await opening;
    expect(db.version).toBe(2);
    db.close();
  });

  it("opening after the other tab upgraded fails with the reload message", async () => {
    const name = unique("notes");
    (await openDatabase<NotesV3>({ name, migrations: [v1, v2] })).close();
    const error = await openDatabase<NotesV3>({ name, migrations: [v1] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageSupersededError);
    expect((error as Error).message).toBe("snap86 was updated in another tab: reload this one");
    expect(notices).toEqual([{ kind: "superseded", database: name, version: 1, newVersion: null }]);
  });

  it("listeners can stop listening", () => {
    stopListening();
    expect(notices).toEqual([]);
  });
});
