// Repeated lazy restores of one checkpoint, in place on one running emulator, under a CPU- and
// timer-heavy guest: RAM not yet loaded is poisoned, faults take a random time, and the rest of
// RAM arrives by prefetch between ticks as in the app. Any missed path into RAM shows up as a
// wrong checksum, a dead process or a kernel complaint. SNAP86_LAZY_STRESS=N sets the rounds.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LazyRamSession } from "../../../src/v86/lazy-ram";
import { lazyWasmFn, type LazyWasmHandle } from "../../../src/v86/instrumented-wasm";
import { guestAvailable, LAZY_WASM, NodeGuest } from "./helpers/node-guest";

const ROUNDS = Number(process.env.SNAP86_LAZY_STRESS ?? 3);
const PAGES_PER_CHUNK = 8;
const KEEPER = `sh -c 'v=$(head -c 48 /dev/urandom | md5sum | cut -c1-32); while :; do echo "$v" > /tmp/keeper.out; sleep 0.1; done' >/dev/null 2>&1 & true`;
// No cap of its own: a keeper that never writes again fails the test by run()'s timeout.
const KEPT = "rm -f /tmp/keeper.out; until [ -s /tmp/keeper.out ]; do sleep 0.1; done; cat /tmp/keeper.out";
const COMPLAINTS = /BUG|Oops|panic|stall|general protection|segfault|Illegal instruction|Bad page/i;

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe.skipIf(!guestAvailable())("repeated in-place lazy restores under load (Node, poisoned RAM)", () => {
  let guest: NodeGuest;
  let handle: LazyWasmHandle;

  beforeAll(async () => {
    const { wasm_fn, loaded } = lazyWasmFn(LAZY_WASM);
    guest = await NodeGuest.booted({ wasm_fn });
    handle = await loaded;
    await guest.waitForPrompt(180_000);
  }, 200_000);

  afterAll(async () => {
    await guest?.destroy();
  });

  it(`stays exact over ${ROUNDS} rounds`, async () => {
    const cpu = await guest.cpu;
    // Long command lines would wrap at busybox's default 80 columns and split the echo.
    await guest.run("stty cols 1000");
    await guest.run("mkdir -p /tmp/lz && mount -t tmpfs -o size=12m tmpfs /tmp/lz");
    await guest.run("dd if=/dev/urandom of=/tmp/lz/big bs=1M count=8 2>/dev/null");
    const sum = await guest.run("md5sum /tmp/lz/big");
    await guest.run("sh -c 'while :; do md5sum /bin/busybox >/dev/null; done' >/dev/null 2>&1 & true");
    await guest.run(KEEPER);
    // The keeper's first write, however slow the machine: wait for the file, not a guessed time.
    const kept = await guest.run("until [ -s /tmp/keeper.out ]; do sleep 0.1; done; cat /tmp/keeper.out", 60_000);
    expect(kept).toMatch(/^[0-9a-f]{32}\n$/);
    const dmesgBefore = await guest.run("dmesg | wc -l");
    const uptime = async (): Promise<number> => {
      const out = await guest.run("cut -d' ' -f1 /proc/uptime", 60_000);
      const seconds = /^(\d+\.\d+)$/m.exec(out);
      if (!seconds) throw new Error(`no uptime in ${JSON.stringify(out)}; serial tail ${JSON.stringify(guest.serial.slice(-600))}`);
      return Number(seconds[1]);
    };
    // v86 derives the guest's clock from wall time, and a stopped machine's clock goes on until its
    // state is saved: from this read until the save, and after each restore until the next read.
    // Only that may show in the uptime after a restore, however slow this machine is. Timed from
    // before the question: the guest reads its clock some time before its answer gets here (0.53 s
    // on a loaded machine, which failed a bound timed from the answer).
    const readAt = performance.now();
    const savedUptime = await uptime();
    await guest.emulator.stop();
    await guest.excludeDiskFromState();
    const ramSize = cpu.memory_size[0];
    const ram = new Uint8Array(cpu.wasm_memory.buffer, cpu.mem8.byteOffset, ramSize).slice();
    const state = await LazyRamSession.saveWithoutRam(cpu, () => guest.emulator.save_state());
    const ranBeforeSaveMs = performance.now() - readAt;
    await guest.emulator.run();

    for (let round = 0; round < ROUNDS; round++) {
      // Let the guest change things first, so stale RAM differs from the checkpoint.
      await guest.run("echo changed > /tmp/lz/big; rm -f /tmp/keeper.out");
      // The checkpoint was taken at a prompt: stop at one too, so the next run() finds it.
      await guest.waitForPrompt(30_000);
      await guest.emulator.stop();
      let session!: LazyRamSession;
      const maxDelay = [0, 0.3, 2][round % 3];
      session = new LazyRamSession(
        cpu,
        handle,
        (page, dest) => {
          busyWait(Math.random() * maxDelay);
          const first = page - (page % PAGES_PER_CHUNK);
          dest.set(ram.subarray(page << 12, (page + 1) << 12));
          for (let p = first; p < first + PAGES_PER_CHUNK; p++) if (p !== page) session.provide(p, ram.subarray(p << 12, (p + 1) << 12));
        },
        { poison: true },
      );
      await session.restoreLazily(() => (guest.emulator as unknown as { v86: { restore_state(s: ArrayBuffer): void } }).v86.restore_state(state));
      const resumedAt = performance.now();
      await guest.emulator.run();
      // The guest's clock goes on from the checkpoint: no jump by the time since it was taken
      // (rounds take seconds each).
      const resumedUptime = await uptime();
      const ranSeconds = (ranBeforeSaveMs + performance.now() - resumedAt) / 1000;
      // Prefetch: a few chunks per event-loop turn in random order, as loader messages arrive.
      const order = [...Array(ramSize >>> 15).keys()].sort(() => Math.random() - 0.5);
      let stopPrefetch = false;
      const prefetch = (async () => {
        await new Promise((r) => setTimeout(r, Math.random() * 300));
        for (let i = 0; i < order.length && !stopPrefetch; i += 4) {
          for (const chunk of order.slice(i, i + 4)) {
            for (let k = 0; k < PAGES_PER_CHUNK; k++) {
              const p = chunk * PAGES_PER_CHUNK + k;
              session.provide(p, ram.subarray(p << 12, (p + 1) << 12));
            }
          }
          await new Promise((r) => setTimeout(r, Math.random() < 0.1 ? 5 : 0));
        }
        session.loadAll();
        expect(session.finishIfComplete()).toBe(true);
      })();
      const got = await guest.run("md5sum /tmp/lz/big", 60_000);
      const keeper = await guest.run(KEPT, 60_000);
      await prefetch;
      stopPrefetch = true;
      const complaints = await guest.run(`dmesg | tail -n +${Number(dmesgBefore) + 1}`, 60_000);
      console.log(`round ${round}: uptime +${(resumedUptime - savedUptime).toFixed(2)} s, delay<=${maxDelay} ms faults ${session.stats.faults} js ${session.stats.jsFaults}`);
      expect(resumedUptime - savedUptime).toBeGreaterThanOrEqual(0);
      expect(resumedUptime - savedUptime).toBeLessThan(ranSeconds + 0.5);
      expect(got).toBe(sum);
      expect(keeper).toBe(kept);
      expect(complaints).not.toMatch(COMPLAINTS);
    }
  }, 60_000 + ROUNDS * 60_000);
});

