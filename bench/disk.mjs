// `npm run bench:disk`: guest-side dd throughput on the IndexedDB overlay disk vs v86's plain
// in-memory disk, in one run, plus how much of the base image a cold boot downloads.
// Write: 16 MiB from tmpfs to the root disk with conv=fsync. Read: the same file after dropping
// the guest's page cache. Guest-measured (busybox dd), median of 3 each.
import { runBench } from "./lib/harness.mjs";
import { envCount, median, repeat, round1 } from "./lib/stats.mjs";

const REPS = envCount("SNAP86_BENCH_RUNS", 3);
const MIB = 16;
const PASSES = 4;

/**
 * Debian's busybox dd prints no timing and its date has no sub-second format, so the guest times
 * the command with /proc/uptime (10 ms resolution; the runs take 0.3-3 s).
 */
async function timedMibps(vm, passes, command) {
  const out = await vm.run(`a=$(cut -d' ' -f1 /proc/uptime); ${command}; b=$(cut -d' ' -f1 /proc/uptime); echo "$a $b"`);
  const m = /([\d.]+) ([\d.]+)$/.exec(out.trim());
  if (!m) throw new Error(`unexpected output: ${out}`);
  const seconds = Math.max(Number(m[2]) - Number(m[1]), 0.01);
  return (passes * MIB) / seconds;
}

async function measure(vm) {
  await vm.run(`dd if=/dev/urandom of=/tmp/src bs=1M count=${MIB} 2>/dev/null`);
  const reps = await repeat(REPS, async () => {
    // Four passes per timing: a pass takes 0.15-0.7 s, too close to /proc/uptime's 10 ms steps.
    await vm.run("rm -f /root/dd.bin; sync");
    const write = await timedMibps(vm, PASSES, `for p in 1 2 3 4; do dd if=/tmp/src of=/root/dd.bin bs=1M conv=fsync 2>/dev/null; done`);
    // The overlay stores written blocks in IndexedDB behind the guest's back (write-behind, on the
    // emulator's thread); let that finish so the read timing measures reads, not the last writes.
    await vm.page.evaluate(() => window.snap86.flushDisk());
    const read = await timedMibps(vm, PASSES, `for p in 1 2 3 4; do echo 3 > /proc/sys/vm/drop_caches; dd if=/root/dd.bin of=/dev/null bs=1M 2>/dev/null; done`);
    return { write, read };
  });
  return { write: median(reps.map((r) => r.write)), read: median(reps.map((r) => r.read)) };
}

await runBench("disk", async ({ bootFreshPage, note }) => {
  const overlay = await bootFreshPage({ disk: "persistent" });
  const booted = await overlay.page.evaluate(() => window.snap86.diskInfo());
  const onOverlay = await measure(overlay);
  note(`overlay: ${JSON.stringify(onOverlay)}`);
  await overlay.context.close();

  const memory = await bootFreshPage({ disk: "memory" });
  const inMemory = await measure(memory);
  note(`memory: ${JSON.stringify(inMemory)}`);
  return {
    overlay_write_mibps: round1(onOverlay.write),
    overlay_read_mibps: round1(onOverlay.read),
    memory_write_mibps: round1(inMemory.write),
    memory_read_mibps: round1(inMemory.read),
    boot_base_bytes_fetched: booted.baseFetchedBytes,
    base_image_bytes: booted.imageBytes,
  };
});
