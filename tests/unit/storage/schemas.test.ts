// Today's four databases, as the code before src/storage created them (c669882, copied here
// verbatim: name, version, upgrade), open unchanged with the schema modules and keep every record.
import "fake-indexeddb/auto";
import { openDB } from "idb";
import { describe, expect, it } from "vitest";
import { schemaVersion } from "../../../src/storage/database";
import { CHECKPOINT_DB, openCheckpointDb } from "../../../src/storage/checkpoint-db";
import { DISK_DB, openDiskDb } from "../../../src/storage/disk-db";
import { openShareKeyDb, SHARE_KEY_DB } from "../../../src/storage/share-key-db";
import { openWorkingSetDb, WORKING_SET_DB } from "../../../src/storage/working-set-db";
import { DATABASES } from "../../../src/storage/watch";

let n = 0;
const unique = (what: string) => `${what}-${process.pid}-${++n}`;

describe("database versions", () => {
  it("are today's: bumping one needs a migration and docs/versioning.md", () => {
    expect(Object.fromEntries(DATABASES.map((d) => [d.name, schemaVersion(d)]))).toEqual({
      "snap86-disk": 2,
      "snap86-checkpoints": 1,
      "snap86-shares": 1,
      "snap86-lazy": 2,
    });
  });
});

describe("profiles written before src/storage", () => {
  it("snap86-disk", async () => {
    const name = unique(DISK_DB.name);
    const old = await openDB(name, 1, {
      upgrade(db) {
        db.createObjectStore("layers", { keyPath: "id" });
        db.createObjectStore("blocks");
        db.createObjectStore("baseCache");
      },
    });
    await old.put("layers", { id: "L1", parent: null, frozen: true, created: 1, blockCount: 1, bytes: 4, imageId: "i", blockSize: 4 });
    await old.put("blocks", new Uint8Array([1, 2, 3, 4]).buffer, ["L1", 0]);
    await old.put("baseCache", new Uint8Array([5]).buffer, ["u#s", 7]);
    old.close();
    const db = await openDiskDb(name);
    // 1 → 2 changes no record: a layer without `storage` keeps its blocks under its id.
    expect(db.version).toBe(2);
    expect((await db.get("layers", "L1"))?.blockCount).toBe(1);
    expect(new Uint8Array((await db.get("blocks", ["L1", 0]))!)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(await db.count("baseCache")).toBe(1);
    db.close();
  });

  it("snap86-checkpoints", async () => {
    const name = unique(CHECKPOINT_DB.name);
    const old = await openDB(name, 1, {
      upgrade(d) {
        d.createObjectStore("chunks");
        d.createObjectStore("chunkMeta");
        d.createObjectStore("manifests");
        d.createObjectStore("pending");
      },
    });
    await old.put("chunks", new Uint8Array([9]).buffer, "h1");
    await old.put("chunkMeta", { size: 1, rawLength: 1, codec: "raw", created: 1 }, "h1");
    await old.put("manifests", { id: "cp1", label: "x" }, "cp1");
    await old.put("pending", { id: "w", hashes: ["h1"], started: 1 }, "w");
    old.close();
    const db = await openCheckpointDb<{ id: string; label: string }, { size: number }>(name);
    expect(db.version).toBe(1);
    expect(await db.get("manifests", "cp1")).toEqual({ id: "cp1", label: "x" });
    expect((await db.get("chunkMeta", "h1"))?.size).toBe(1);
    expect(await db.count("chunks")).toBe(1);
    expect(await db.get("pending", "w")).toEqual({ id: "w", hashes: ["h1"], started: 1 });
    db.close();
  });

  it("snap86-shares", async () => {
    const name = unique(SHARE_KEY_DB.name);
    const old = await openDB(name, 1, { upgrade: (d) => void d.createObjectStore("keys") });
    await old.put("keys", { key: new Uint8Array(32).fill(7).buffer, created: 1 }, "cp1");
    old.close();
    const db = await openShareKeyDb(name);
    expect(db.version).toBe(1);
    expect(new Uint8Array((await db.get("keys", "cp1"))!.key)).toEqual(new Uint8Array(32).fill(7));
    db.close();
  });

  it("snap86-lazy, version 2 (pages) kept, version 1 (chunks) dropped as before", async () => {
    const upgradeBefore = (d: { objectStoreNames: DOMStringList; deleteObjectStore(n: "workingSets"): void; createObjectStore(n: "workingSets"): unknown }) => {
      if (d.objectStoreNames.contains("workingSets")) d.deleteObjectStore("workingSets");
      d.createObjectStore("workingSets");
    };
    const current = unique(WORKING_SET_DB.name);
    const old = await openDB(current, 2, { upgrade: upgradeBefore });
    await old.put("workingSets", { pages: [3, 1, 2], updated: 1 }, "cp1");
    old.close();
    const db = await openWorkingSetDb(current);
    expect(db.version).toBe(2);
    expect(await db.get("workingSets", "cp1")).toEqual({ pages: [3, 1, 2], updated: 1 });
    db.close();

    const older = unique(WORKING_SET_DB.name);
    const v1 = await openDB(older, 1, { upgrade: upgradeBefore });
    await v1.put("workingSets", { chunks: [0] }, "cp1");
    v1.close();
    const upgraded = await openWorkingSetDb(older);
    expect(upgraded.version).toBe(2);
    expect(await upgraded.count("workingSets")).toBe(0);
    upgraded.close();
  });
});
