// Lazy page-fault restore in the real app: the guest resumes before its RAM is loaded, pages
// arrive on first touch from IndexedDB through the loader worker, and what the guest sees must be
// byte-identical to the moment of the checkpoint (tmpfs contents, a live process's variables).
import { expect, test, type Vm } from "../fixtures/snap86";

const checkpoint = (vm: Vm, label: string) => vm.page.evaluate((label) => window.snap86.checkpoint({ label }), label);
const restore = (vm: Vm, id: string) => vm.page.evaluate((id) => window.snap86.restore(id, { mode: "lazy" }), id);

// A process whose state lives only in its own memory: it rewrites the file every 0.2 s from a
// variable, so deleting the file and reading it again after a restore proves the process's RAM.
/** Deletes the keeper's file and prints it once the keeper has rewritten it (slow under load). */
// No cap of its own: a keeper that never writes again fails the test by run()'s timeout.
// The keeper truncates the file before each write: read until a read is not empty (a test-then-cat
// could read it between the two, and did on a loaded machine).
const READ_KEPT = 'until v=$(cat /tmp/keeper.out 2>/dev/null) && [ -n "$v" ]; do sleep 0.2; done; echo "$v"';
const KEPT = `rm -f /tmp/keeper.out; ${READ_KEPT}`;
const KEEPER = `sh -c 'v=$(head -c 48 /dev/urandom | md5sum | cut -c1-32); while :; do echo "$v" > /tmp/keeper.out; sleep 0.2; done' >/dev/null 2>&1 &`;

// On failure, the guest's last console output (a kernel oops would show there).
test.afterEach(async ({ vm }, info) => {
  if (info.status !== info.expectedStatus) console.log((await vm.page.evaluate(() => window.snap86.serialText())).slice(-6000));
});

test("a lazy restore brings back tmpfs data and a running process's memory exactly", async ({ vm }) => {
  await vm.run("mkdir -p /tmp/lz && mount -t tmpfs -o size=24m tmpfs /tmp/lz 2>/dev/null; true");
  await vm.run("dd if=/dev/urandom of=/tmp/lz/big bs=1M count=16 2>/dev/null");
  const bigSum = await vm.run("md5sum /tmp/lz/big");
  await vm.run(KEEPER);
  // The keeper's first write, however slow the machine: wait for the file, not for a guessed time.
  const kept = await vm.run(READ_KEPT);
  expect(kept).toMatch(/^[0-9a-f]{32}$/);
  const cp = await checkpoint(vm, "lazy-integrity");

  // Change everything the checks look at.
  await vm.run("pkill -f keeper.out; rm -f /tmp/keeper.out; dd if=/dev/zero of=/tmp/lz/big bs=1M count=16 2>/dev/null");
  expect(await vm.run("md5sum /tmp/lz/big")).not.toBe(bigSum);

  const restored = await restore(vm, cp.id);
  expect(restored.mode).toBe("lazy");
  expect(restored.lazyUnavailable).toBeUndefined();
  // The keeper rewrites its file from memory: delete it and wait for the process to recreate it.
  expect(await vm.run(KEPT)).toBe(kept);
  expect(await vm.run("md5sum /tmp/lz/big")).toBe(bigSum);
  // Background prefetch finishes and lazy mode switches off; the status line empties.
  await expect(vm.page.locator("#status-lazy")).toHaveText("", { timeout: 60_000 });
  expect(await vm.run("md5sum /tmp/lz/big")).toBe(bigSum);
  await expect(vm.page.locator("#status-state")).toHaveText("running");
  await vm.run("pkill -f keeper.out; umount /tmp/lz; true");
});

test("the status line shows resident RAM and faults while a lazy restore loads", async ({ vm }) => {
  const cp = await checkpoint(vm, "lazy-status");
  const seen = vm.page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const el = document.getElementById("status-lazy")!;
        const check = () => (/resident/.test(el.textContent ?? "") ? resolve(el.textContent!) : undefined);
        new MutationObserver(check).observe(el, { childList: true, characterData: true, subtree: true });
        setTimeout(() => resolve(el.textContent ?? ""), 20_000);
      }),
  );
  await restore(vm, cp.id);
  expect(await seen).toMatch(/^RAM \d+% resident · \d+ faults?$/);
});

test("repeated lazy restores under a CPU-heavy guest stay exact; a capture mid-restore is complete", async ({ vm }) => {
  await vm.run("dd if=/dev/urandom of=/tmp/rep bs=1M count=4 2>/dev/null");
  const sum = await vm.run("md5sum /tmp/rep");
  await vm.run("sh -c 'while :; do md5sum /bin/busybox >/dev/null; done' >/dev/null 2>&1 &");
  await vm.run(KEEPER);
  // The keeper's first write, however slow the machine: wait for the file, not for a guessed time.
  const kept = await vm.run(READ_KEPT);
  const uptime = async () => Number((await vm.run("cut -d' ' -f1 /proc/uptime")).trim());
  const savedUptime = await uptime();
  const cp = await checkpoint(vm, "lazy-busy");
  for (let i = 0; i < 5; i++) {
    await vm.run(`echo round-${i} > /tmp/rep; sleep 1; rm -f /tmp/keeper.out`);
    const restoredAt = Date.now();
    const r = await restore(vm, cp.id);
    expect(r.mode).toBe("lazy");
    // The guest clock goes on from the checkpoint, however many restores came before: at most the
    // time since this restore began later (on a loaded machine that alone can be seconds), plus the
    // checkpoint call's own latency, where a clock that kept each earlier round's time would be
    // a second or more ahead per round.
    const now = await uptime();
    expect(now).toBeLessThan(savedUptime + (Date.now() - restoredAt) / 1000 + 3);
    expect(await vm.run("md5sum /tmp/rep")).toBe(sum);
    expect(await vm.run(KEPT)).toBe(kept);
  }
  // Right after a lazy restore, a capture must wait for all of RAM: restoring it eagerly must
  // give the same guest.
  await restore(vm, cp.id);
  const second = await checkpoint(vm, "taken-while-lazy");
  await vm.run("echo changed > /tmp/rep");
  const eager = await vm.page.evaluate((id) => window.snap86.restore(id, { mode: "eager" }), second.id);
  expect(eager.mode).toBe("eager");
  expect(await vm.run("md5sum /tmp/rep")).toBe(sum);
  expect(await vm.run(KEPT)).toBe(kept);
  expect(await vm.run("dmesg | grep -E -A3 'rcu.*stall|BUG:|Oops|Kernel panic' || true")).toBe("");
  await vm.run("pkill -f keeper.out; pkill -f 'md5sum /bin/busybox'; true");
});

/** Overwrites, in the page's IndexedDB, every RAM chunk only checkpoint `id` references; returns how many. */
function damageOwnChunks(vm: Vm, id: string): Promise<number> {
  return vm.page.evaluate(async (id) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open("snap86-checkpoints");
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const req = <T,>(r: IDBRequest<T>) => new Promise<T>((resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(r.error))));
    type M = { id: string; ram: { chunks: (string | null)[] }; deviceState: { chunks: (string | null)[] } };
    const manifests = (await req(db.transaction("manifests").objectStore("manifests").getAll())) as M[];
    const others = new Set(manifests.filter((m) => m.id !== id).flatMap((m) => [...m.ram.chunks, ...m.deviceState.chunks]));
    const own = manifests.find((m) => m.id === id)!.ram.chunks.filter((h): h is string => !!h && !others.has(h));
    const tx = db.transaction("chunks", "readwrite");
    for (const h of own) {
      const bytes = new Uint8Array(((await req(tx.objectStore("chunks").get(h))) as ArrayBuffer).slice(0));
      for (let i = 0; i < bytes.length; i += 97) bytes[i] ^= 0x5a;
      tx.objectStore("chunks").put(bytes.buffer, h);
    }
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
    return own.length;
  }, id);
}

test("a damaged chunk stops the machine with a notice naming the checkpoint, never runs on garbage", async ({ vm }) => {
  const good = await checkpoint(vm, "lazy-good");
  await vm.run("dd if=/dev/urandom of=/tmp/doomed bs=1M count=2 2>/dev/null");
  const bad = await checkpoint(vm, "lazy-doomed");
  expect(await damageOwnChunks(vm, bad.id)).toBeGreaterThan(8);
  await vm.run("rm -f /tmp/doomed");

  // The restore itself may meet a damaged chunk (the CRNG reseed reads two kernel pages before
  // the guest runs on); otherwise touching the file faults one in, or prefetch meets one first.
  const restored = await vm.page.evaluate(
    (id) => window.snap86.restore(id, { mode: "lazy" }).then((r) => r.mode as string, (e: Error) => `refused: ${e.message}`),
    bad.id,
  );
  if (restored === "lazy") await vm.page.evaluate(() => window.snap86.type("md5sum /tmp/doomed\n"));
  else expect(restored).toContain(`checkpoint ${bad.id} is damaged`);
  await expect(vm.page.locator("#error")).toContainText(`checkpoint ${bad.id} is damaged`, { timeout: 60_000 });
  await expect(vm.page.locator("#status-state")).toHaveText("paused");
  // Nothing may capture the half-loaded RAM.
  await expect(checkpoint(vm, "must-fail")).rejects.toThrow(/Restore a checkpoint/);

  const back = await restore(vm, good.id);
  expect(back.mode).toBe("lazy");
  expect(await vm.run("ls /tmp/doomed 2>&1")).toContain("No such file");
  await vm.page.evaluate((id) => window.snap86.deleteCheckpoint(id), bad.id);
});
