// Measurements behind the lazy-restore figures; slow (several guest boots), so opt-in:
//   LAZY_BENCH=1 npx vitest run tests/unit/lazy/lazy-bench.test.ts
// CPU time of this process is reported next to wall time: the machine is shared, and CPU time
// is much less sensitive to other processes than wall time. Figures are medians.
import { describe, expect, it } from "vitest";
import { LazyRamSession } from "../../../src/v86/lazy-ram";
import { lazyWasmFn, type LazyWasmHandle } from "../../../src/v86/instrumented-wasm";
import { guestAvailable, LAZY_WASM, NodeGuest } from "./helpers/node-guest";

const ROUNDS = Number(process.env.LAZY_BENCH_ROUNDS ?? 4);
const WORKLOAD = "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do md5sum /bin/busybox > /dev/null; ls -R /usr > /dev/null; done";

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs: number[], unit: string, digits = 0) => `median ${median(xs).toFixed(digits)} ${unit} [${xs.map((x) => x.toFixed(digits)).join(", ")}]`;

async function boot(instrumented: boolean): Promise<{ wallS: number; cpuS: number; guest: NodeGuest; handle?: LazyWasmHandle }> {
  const lazy = instrumented ? lazyWasmFn(LAZY_WASM) : null;
  const c0 = cpuMs();
  const t0 = performance.now();
  const guest = new NodeGuest({ wasm_fn: lazy?.wasm_fn, boot: true });
  const handle = lazy ? await lazy.loaded : undefined;
  await guest.waitForPrompt(300_000);
  return { wallS: (performance.now() - t0) / 1000, cpuS: (cpuMs() - c0) / 1000, guest, handle };
}

async function workloadCpuMs(guest: NodeGuest): Promise<number> {
  const c0 = cpuMs();
  await guest.run(WORKLOAD, 180_000);
  return cpuMs() - c0;
}

describe.skipIf(!process.env.LAZY_BENCH || !guestAvailable())("lazy wasm overhead (bench)", () => {
  it("boot: instrumented wasm with the flag off vs the original", async () => {
    const cpu: Record<string, number[]> = { original: [], instrumented: [] };
    const wall: Record<string, number[]> = { original: [], instrumented: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const instrumented of [round % 2 === 1, round % 2 === 0]) {
        const r = await boot(instrumented);
        const key = instrumented ? "instrumented" : "original";
        cpu[key].push(r.cpuS);
        wall[key].push(r.wallS);
        await r.guest.destroy();
      }
    }
    for (const key of ["original", "instrumented"]) {
      console.log(`boot to prompt, ${key}: cpu ${fmt(cpu[key], "s", 1)}; wall ${fmt(wall[key], "s", 1)}`);
    }
    expect(cpu.original).toHaveLength(ROUNDS);
  }, 1_800_000);

  it("steady state: workload with the flag on (all resident) vs off", async () => {
    const { guest, handle } = await boot(true);
    handle!.setHooks({ snap86_page_walk: () => {}, snap86_load_pdpte: () => {} });
    for (let i = 0; i < 3; i++) await workloadCpuMs(guest); // page cache and JIT warm-up
    const on: number[] = [];
    const off: number[] = [];
    for (let i = 0; i < 4; i++) {
      handle!.setLazy(false);
      off.push(await workloadCpuMs(guest));
      handle!.setLazy(true);
      on.push(await workloadCpuMs(guest));
    }
    handle!.setLazy(false);
    console.log(`workload cpu, flag off: ${fmt(off, "ms")}\nworkload cpu, flag on : ${fmt(on, "ms")}`);
    await guest.destroy();
    expect(on).toHaveLength(4);
  }, 900_000);

  it("restore: lazy (no poison) vs eager, and the first answer", async () => {
    const { guest } = await boot(true);
    const cpu = await guest.cpu;
    await guest.emulator.stop();
    await guest.excludeDiskFromState();
    const ramSize = cpu.memory_size[0];
    const ram = new Uint8Array(cpu.wasm_memory.buffer, cpu.mem8.byteOffset, ramSize).slice();
    const disk = await guest.diskCopy();
    const lazyState = await LazyRamSession.saveWithoutRam(cpu, () => guest.emulator.save_state());
    const fullState = await guest.emulator.save_state();
    await guest.destroy();

    const rows: Record<string, number[]> = { eagerRestore: [], eagerFirst: [], lazyRestore: [], lazyFirst: [], faults: [] };
    for (let i = 0; i < 3; i++) {
      const eager = new NodeGuest({ disk: disk.slice(0), boot: false });
      await eager.cpu;
      await eager.excludeDiskFromState();
      let t = performance.now();
      await eager.emulator.restore_state(fullState);
      rows.eagerRestore.push(performance.now() - t);
      t = performance.now();
      await eager.emulator.run();
      await eager.run("uname -a");
      rows.eagerFirst.push(performance.now() - t);
      await eager.destroy();

      const { wasm_fn, loaded } = lazyWasmFn(LAZY_WASM);
      const lazy = new NodeGuest({ wasm_fn, disk: disk.slice(0), boot: false });
      const session = new LazyRamSession(await lazy.cpu, await loaded, (p, dest) => dest.set(ram.subarray(p << 12, (p + 1) << 12)));
      await lazy.excludeDiskFromState();
      t = performance.now();
      await session.restoreLazily(() => lazy.emulator.restore_state(lazyState));
      rows.lazyRestore.push(performance.now() - t);
      t = performance.now();
      await lazy.emulator.run();
      await lazy.run("uname -a");
      rows.lazyFirst.push(performance.now() - t);
      rows.faults.push(session.stats.pagesLoaded);
      await lazy.destroy();
    }
    console.log(
      [
        `state: ${(fullState.byteLength / 1e6).toFixed(1)} MB with RAM, ${(lazyState.byteLength / 1e6).toFixed(1)} MB without`,
        `restore_state eager: ${fmt(rows.eagerRestore, "ms")}`,
        `restore_state lazy : ${fmt(rows.lazyRestore, "ms")}`,
        `resume -> 'uname -a' answered, eager: ${fmt(rows.eagerFirst, "ms")}`,
        `resume -> 'uname -a' answered, lazy : ${fmt(rows.lazyFirst, "ms")}`,
        `pages loaded by then (lazy): ${fmt(rows.faults, "pages")} = ${((median(rows.faults) * 4096) / 2 ** 20).toFixed(2)} MiB`,
      ].join("\n"),
    );
    expect(rows.faults.every((f) => f < ramSize / 4096)).toBe(true);
  }, 900_000);
});
