/**
 * A profile written by the app as it was before src/storage (commit LEGACY, built from its own
 * source and vite config by scripts/build-legacy.mjs) opens with this build and every record
 * stays usable: the session resumes with its files, a checkpoint restores, the golden checkpoint
 * resets, the share key and the working set give the same share (same link, same pack, nothing
 * uploaded). Both builds are served on the same port one after the other (same origin, so the
 * same IndexedDB) to one persistent Chromium profile, closed and reopened in between as a user's
 * browser would be. Then another tab opens a newer version of a database: this tab says so and
 * saves nothing more, and nothing saved is lost.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, expect, test, type BrowserContext, type Page } from "@playwright/test";
import { testLaunchOptions } from "../../scripts/lib/chromium.mjs";
import type { ShareResult } from "../../src/protocol";
import "../fixtures/snap86"; // window.snap86's type
import { freePort, startPreview, type Preview } from "../support/preview-server";

/** The last commit before the storage owner: its databases are what users have today. */
const LEGACY = "c669882ba7d05f26d3fe79ea52951223cd27d0b5";
const root = join(import.meta.dirname, "..", "..");
const storePort = process.env.SNAP86_TEST_STORE_PORT ?? "4318";

/** Every key of every store of every database, as "db/store" → JSON keys, and the versions. */
function inventory(page: Page): Promise<{ versions: Record<string, number>; keys: Record<string, string[]> }> {
  return page.evaluate(async () => {
    const versions: Record<string, number> = {};
    const keys: Record<string, string[]> = {};
    for (const { name } of await indexedDB.databases()) {
      if (!name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open(name);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      versions[name] = db.version;
      for (const store of Array.from(db.objectStoreNames)) {
        const all = await new Promise<IDBValidKey[]>((resolve, reject) => {
          const req = db.transaction(store).objectStore(store).getAllKeys();
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        });
        keys[`${name}/${store}`] = all.map((k) => JSON.stringify(k)).sort();
      }
      db.close();
    }
    return { versions, keys };
  });
}

async function open(context: BrowserContext, preview: Preview, query: string): Promise<Page> {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${preview.origin}/?${query}`);
  await page.waitForFunction(() => typeof window.snap86 === "object");
  return page;
}

const run = (page: Page, command: string) => page.evaluate((c) => window.snap86.run(c, { timeoutMs: 60_000 }), command);

test("a profile of the previous release opens with this one, every record usable", async () => {
  test.setTimeout(600_000);
  const legacyDist = execFileSync(process.execPath, ["scripts/build-legacy.mjs", LEGACY], { cwd: root, encoding: "utf8" }).trim().split("\n").pop()!;
  const profile = mkdtempSync(join(tmpdir(), "snap86-upgrade-"));
  const port = await freePort();
  const launch = () => chromium.launchPersistentContext(profile, { ...testLaunchOptions(), viewport: { width: 1440, height: 900 } });
  try {
    // --- the previous release writes a profile ---
    const old = await startPreview({ cwd: join(legacyDist, ".."), outDir: legacyDist, port, storePort });
    let context = await launch();
    let page = await open(context, old, "autoboot=0&standby=0&autosave=0");
    const golden = await page.evaluate(async () => {
      await window.snap86.boot();
      await window.snap86.waitForShell({ timeoutMs: 150_000 });
      return window.snap86.ensureGolden();
    });
    await run(page, "echo before > /root/upgrade.txt; sync");
    await page.evaluate(() => window.snap86.flushDisk());
    const cp = await page.evaluate(() => window.snap86.checkpoint({ label: "before upgrade" }));
    // Its working set is written just after the checkpoint: share once it is there, so both shares read the same one.
    await expect.poll(async () => (await inventory(page)).keys["snap86-lazy/workingSets"] ?? []).toContain(JSON.stringify(cp.id));
    const shared: ShareResult = await page.evaluate((id) => window.snap86.share(id), cp.id);
    expect(shared.packBytes).toBeGreaterThan(0);
    await run(page, "echo after > /root/upgrade.txt; sync");
    await page.evaluate(() => window.snap86.flushDisk());
    await page.evaluate(() => window.snap86.checkpoint({ autosave: true })); // the session a reload resumes
    await page.evaluate(() => window.snap86.settleStorage());
    const written = await inventory(page);
    expect(Object.keys(written.versions).sort()).toEqual(["snap86-checkpoints", "snap86-disk", "snap86-lazy", "snap86-shares"]);
    await context.close();
    await old.stop();

    // --- this release opens it: first without booting, so nothing but the opening touches it ---
    const current = await startPreview({ cwd: root, outDir: join(root, "dist"), port, storePort });
    try {
      context = await launch();
      page = await open(context, current, "autoboot=0&standby=0");
      await expect(page.locator("#storage-notice")).toBeAttached(); // this build, not a cached old one
      // Every record as it was; only snap86-disk's version moved (1 -> 2 rewrites no record: a layer
      // may since keep its blocks under its committed parent's key, which older builds must refuse).
      expect(await inventory(page)).toEqual({ ...written, versions: { ...written.versions, "snap86-disk": 2 } });

      // The session resumes as the user left it: RAM from the autosave, files from the disk overlay.
      page = await open(context, current, "standby=0&autosave=0");
      await expect(page.locator("#notice")).toContainText("Resumed your session");
      expect(await run(page, "cat /root/upgrade.txt")).toBe("after");
      // Share key and working set: the same link and pack, and nothing to upload.
      const again: ShareResult = await page.evaluate((id) => window.snap86.share(id), cp.id);
      expect(again).toMatchObject({ link: shared.link, uploadedBytes: 0, packBytes: shared.packBytes });
      await page.evaluate((id) => window.snap86.restore(id), cp.id);
      expect(await run(page, "cat /root/upgrade.txt")).toBe("before");
      expect((await page.evaluate(() => window.snap86.ensureGolden())).id).toBe(golden.id);
      await page.evaluate(() => window.snap86.reset());
      expect(await run(page, "test -e /root/upgrade.txt && echo present || echo absent")).toBe("absent");

      // --- another tab opens a newer version of the checkpoint database ---
      const saved = (await inventory(page)).keys["snap86-checkpoints/manifests"];
      const other = await context.newPage();
      await other.goto(`${current.origin}/guest/guest.json`); // same origin, no app: only the newer open
      const newer = other.evaluate(
        () =>
          new Promise<string[]>((resolve, reject) => {
            const req = indexedDB.open("snap86-checkpoints", 2); // an upgrade that keeps every store
            req.onsuccess = () => {
              const tx = req.result.transaction("manifests");
              const keys = tx.objectStore("manifests").getAllKeys();
              tx.oncomplete = () => resolve((keys.result as string[]).map((k) => JSON.stringify(k)).sort());
            };
            req.onerror = () => reject(req.error);
          }),
      );
      await expect(page.locator("#storage-notice")).toHaveText(/updated in another tab: reload this one/);
      // Opened without waiting for this tab: it let go at once. Everything it saved is there.
      expect(await newer).toEqual(saved);
      // This tab saves nothing more.
      const refused = await page.evaluate(() => window.snap86.checkpoint({ label: "after the update" }).then(() => "saved", (e: Error) => e.message));
      // Refused by the closed connection itself, not by anything else the machine was doing.
      expect(refused).toMatch(/could not be saved: .*connection is closing/);
      await context.close();
    } finally {
      await current.stop();
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
});
