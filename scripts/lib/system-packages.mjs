// The Debian packages `npm start` and `npm test` need from the system, installed when missing:
// the guest builder's host tools (and i386 package lists, only when the guest must be built) and,
// for the browser tests and benchmarks, Debian's Chromium. As root apt-get runs directly; as
// another user through `sudo -n` when that works; otherwise the exact command is printed and the
// run stops, because a half-set-up machine fails later with a worse message.
import { spawnSync } from "node:child_process";

export const BROWSER_PACKAGES = ["chromium", "fonts-dejavu-core"];
/** The "debian" guest's builder (scripts/build-debian-guest.mjs): a Debian userland by debootstrap. */
export const DEBIAN_GUEST_PACKAGES = ["debootstrap"];
/** A single-node Ceph RADOS Gateway: the real S3 the share suite also runs on (scripts/rgw). */
export const S3_PACKAGES = ["radosgw", "ceph-mon", "ceph-osd", "ceph-common"];
const GUEST_ARCH = "i386";

/**
 * What to run, as a pure function of what the machine has (unit-tested):
 * `{ commands: string[][] }` (empty when nothing is missing) or `{ error }` with what to run by hand.
 */
export function planSystemSetup({ wanted, installed, foreignArchs, needGuestArch, isRoot, hasSudo }) {
  const missing = [...new Set(wanted)].filter((p) => !installed.has(p));
  const addArch = needGuestArch && !foreignArchs.includes(GUEST_ARCH);
  if (missing.length === 0 && !addArch) return { commands: [] };
  const steps = [
    ...(addArch ? [["dpkg", "--add-architecture", GUEST_ARCH]] : []),
    // Fresh machines and containers ship without package lists; a new architecture needs them too.
    ["apt-get", "update", "-qq"],
    ...(missing.length > 0 ? [["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing]] : []),
  ];
  if (isRoot) return { commands: steps, missing, addArch };
  if (hasSudo) return { commands: steps.map((s) => ["sudo", "-n", ...s]), missing, addArch };
  const byHand = steps.map((s) => `sudo ${s.join(" ")}`).join(" && ");
  return { error: `snap86 needs ${[...missing, ...(addArch ? [`the ${GUEST_ARCH} architecture`] : [])].join(", ")} from Debian. Run:\n  ${byHand}` };
}

function out(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout : "";
}

/** Installed packages among `names` (dpkg-query knows each by name, arch-qualified or not). */
function installedAmong(names) {
  const status = out("dpkg-query", ["-W", "-f=${Package} ${db:Status-Abbrev}\n", ...names]);
  return new Set(
    status
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter(([, flags]) => flags?.startsWith("ii"))
      .map(([name]) => name),
  );
}

/**
 * Installs what is missing. `guestPackages`: the builder's host tools (null when the guest is
 * current and needs no build); `debianGuest`: debootstrap for the debian guest; `browser`: whether
 * Chromium is needed; `s3`: Ceph's S3 gateway;
 * `extra`: more packages (the test images' sources, test-images.mjs).
 */
export function ensureSystemPackages({ guestPackages, debianGuest = false, browser, s3 = false, extra = [], log = console.log }) {
  if (process.platform !== "linux" || !out("sh", ["-c", "command -v dpkg-query"])) return; // not Debian: the steps below say what fails
  const wanted = [...(guestPackages ?? []), ...(debianGuest ? DEBIAN_GUEST_PACKAGES : []), ...(browser && !process.env.CHROMIUM_PATH ? BROWSER_PACKAGES : []), ...(s3 ? S3_PACKAGES : []), ...extra];
  const plan = planSystemSetup({
    wanted,
    installed: installedAmong(wanted),
    foreignArchs: out("dpkg", ["--print-foreign-architectures"]).split("\n").filter(Boolean),
    needGuestArch: guestPackages !== null,
    isRoot: process.getuid?.() === 0,
    hasSudo: spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0,
  });
  if (plan.error) {
    console.error(plan.error);
    process.exit(1);
  }
  if (plan.commands.length === 0) return;
  log(`snap86: installing from Debian: ${[...plan.missing, ...(plan.addArch ? [`(${GUEST_ARCH} package lists)`] : [])].join(" ")}`);
  for (const command of plan.commands) {
    const r = spawnSync(command[0], command.slice(1), { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    // A mirror caught mid-sync fails one index; the install that follows says if it mattered.
    if (r.status !== 0 && !command.includes("update")) {
      console.error(`snap86: ${command.join(" ")} failed (exit ${r.status})`);
      process.exit(r.status ?? 1);
    }
  }
}
