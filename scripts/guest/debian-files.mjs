// Text files of the "debian" guest's root disk: a Debian bookworm userland started by a small
// init of our own (no systemd), with the same shells, host folder and network as the busybox
// guest (guest-files.mjs). Kept apart from the build so tests can read them without debootstrap.
import {
  AUTOMATION_CONSOLE, AUTOMATION_SHELL, BOOT_STAGE_PREFIX, HOST_FOLDER, HTTP_PROXY, NINEP_MSIZE, PROMPT, UDHCPC_HOOK, UDHCPC_SCRIPT,
} from "./guest-files.mjs";

export const DEBIAN_HOSTNAME = "snap86-debian";
export const DEBIAN_SUITE = "bookworm";
/** What the issue asks for, plus busybox for udhcpc (DHCP) as in the busybox guest. */
export const DEBIAN_INCLUDE = ["bash", "coreutils", "python3", "procps", "less", "nano", "ca-certificates", "curl", "busybox"];
export const DEBIAN_DISK_MIB = 512;

/**
 * PID 1: mounts, hostname, host folder, a DHCP lease in the background, then root shells on
 * ttyS0 and tty1 and the app's automation shell on ttyS1, each started again when it exits.
 * bash as PID 1 reaps orphans (it waits for any child), and it never exits.
 */
export const DEBIAN_INIT = `#!/bin/bash
# snap86 init for the Debian guest (no systemd): the initramfs moved proc, sys and dev here.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
cd /root
[ -e /proc/mounts ] || mount -t proc proc /proc
grep -q " /sys " /proc/mounts || mount -t sysfs sysfs /sys
grep -q " /dev " /proc/mounts || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
hostname -F /etc/hostname
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=${NINEP_MSIZE} host9p ${HOST_FOLDER} 2>/dev/null
busybox ifconfig lo 127.0.0.1 up
# In the background: init must not wait for a lease (the page may have the cable unplugged).
[ -e /sys/class/net/eth0 ] && busybox udhcpc -i eth0 -s ${UDHCPC_SCRIPT} -b -A 2 >/dev/null 2>&1 &

# respawn TTY COMMAND...: COMMAND on TTY, started again when it exits. The tty is opened inside
# the loop: bash gives a background job /dev/null as stdin otherwise. setsid -c makes it the
# controlling terminal (job control, Ctrl+C).
respawn() {
  local tty=$1
  shift
  ( while true; do setsid -c "$@" <>"$tty" >&0 2>&1; sleep 1; done ) &
}
respawn /dev/ttyS0 /bin/bash -l
respawn /dev/tty1 /bin/bash -l
respawn /dev/${AUTOMATION_CONSOLE} ${AUTOMATION_SHELL}
while true; do wait; sleep 60; done
`;

/** As in the busybox guest: raw tty, the stage line, then commands read from the tty as a script. */
export const DEBIAN_AUTOMATION = `#!/bin/sh
stty raw -echo
echo "${BOOT_STAGE_PREFIX}shell"
. /etc/profile
exec /bin/sh /dev/${AUTOMATION_CONSOLE}
`;

export const DEBIAN_PROFILE_D = `# snap86: the same prompt and proxy as the busybox guest (see guest-files.mjs).
export http_proxy=${HTTP_PROXY}
export no_proxy=
export HOME=/root
[ -n "$BASH_VERSION" ] && PS1='${PROMPT}'
`;

/** bash -l reads /etc/profile (which sources profile.d); root's .bashrc would set its own PS1. */
export const DEBIAN_BASHRC = `PS1='${PROMPT}'\n`;

/** Root disk files: path (relative to the root) -> [mode, text]. */
export function debianFiles() {
  return {
    "sbin/init": [0o755, DEBIAN_INIT],
    [AUTOMATION_SHELL.slice(1)]: [0o755, DEBIAN_AUTOMATION],
    "etc/profile.d/snap86.sh": [0o644, DEBIAN_PROFILE_D],
    "root/.bashrc": [0o644, DEBIAN_BASHRC],
    "etc/hostname": [0o644, `${DEBIAN_HOSTNAME}\n`],
    "etc/hosts": [0o644, `127.0.0.1 localhost\n127.0.1.1 ${DEBIAN_HOSTNAME}\n`],
    "etc/fstab": [0o644, "# mounted by the initramfs and /sbin/init\n"],
    [UDHCPC_SCRIPT.slice(1)]: [0o755, UDHCPC_HOOK],
  };
}

/** Left out of the image: caches, package lists and docs a 10 MiB/s Range fetch would carry. */
export const DEBIAN_PRUNE = ["var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/log"];

/** The first Debian archive URI of the machine's apt sources (deb822 .sources or sources.list). */
export function debianMirror(sources) {
  for (const text of sources) {
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name) => new RegExp(`^${name}:\\s*(.+)$`, "mi").exec(stanza)?.[1].trim();
      const types = field("Types"), uris = field("URIs"), suites = field("Suites");
      if (types?.split(/\s+/).includes("deb") && uris && suites?.split(/\s+/).includes(DEBIAN_SUITE)) return uris.split(/\s+/)[0];
    }
    for (const line of text.split("\n")) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (m && m[2] === DEBIAN_SUITE) return m[1];
    }
  }
  return undefined;
}
