// Text files that go into the initramfs and the root disk. Kept apart from the build steps
// so tests can check them without running apt or mke2fs.

export const HOSTNAME = "snap86";
/** The app detects a shell prompt by its "# " ending, so this must stay fixed. */
export const PROMPT = "snap86:\\w# ";
/** Guest-time limit for /dev/sda to appear after the disk drivers are loaded. */
export const DISK_WAIT_SECONDS = 10;

function shellQuote(s) {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * /init of the initramfs. `modules` are file names (without .ko) under /lib/modules/, in
 * load order. Any failure ends in a shell on the serial line: /dev/console is tty0 (the
 * last console= wins), so a shell on the console alone would be invisible to the app.
 */
export function initScript(modules) {
  for (const m of modules) if (!/^[A-Za-z0-9_-]+$/.test(m)) throw new Error(`odd module name: ${m}`);
  const tries = DISK_WAIT_SECONDS * 50;
  return `#!/bin/sh
# snap86 initramfs: load the disk drivers, mount the root disk read-write, start its init.
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Boot stages for the page's progress line, on the automation channel (never the user's terminal).
stage() { echo "${BOOT_STAGE_PREFIX}$1" >/dev/${AUTOMATION_CONSOLE} 2>/dev/null; }
stage drivers

rescue() {
  for out in /dev/console /dev/ttyS0; do
    echo "snap86 initramfs: $*" >"$out"
    echo "snap86 initramfs: boot failed, starting a rescue shell on ttyS0" >"$out"
  done
  # PID 1 must never exit (the kernel would panic), so keep a serial shell coming back.
  while true; do setsid sh -c 'exec sh -i </dev/ttyS0 >/dev/ttyS0 2>&1'; done
}

for m in ${modules.join(" ")}; do
  insmod /lib/modules/$m.ko || rescue "insmod $m failed"
done

stage disk
i=0
while [ ! -b /dev/sda ]; do
  i=$((i + 1))
  [ $i -gt ${tries} ] && rescue "no /dev/sda after ${DISK_WAIT_SECONDS} s"
  usleep 20000
done

# noatime: reading a file should not dirty disk blocks (checkpoints store changed blocks).
mount -t ext4 -o rw,noatime /dev/sda /newroot || rescue "cannot mount /dev/sda as ext4"
[ -x /newroot/sbin/init ] || rescue "the root disk has no /sbin/init"
stage init
mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
exec switch_root /newroot /sbin/init
`;
}

/**
 * The serial port (COM2) that carries the page's own commands (probes, the automation API's
 * run()); ttyS0 stays the user's terminal. guest.json names it so the app knows this guest has one.
 */
export const AUTOMATION_CONSOLE = "ttyS1";
export const AUTOMATION_SHELL = "/sbin/snap86-automation";
/** Lines the guest prints on the automation channel while it boots: `snap86-boot: <stage>`. */
export const BOOT_STAGE_PREFIX = "snap86-boot: ";

export const INITTAB = `# snap86: ttyS0 is the user's serial terminal, tty1 the VGA screen, ttyS1 the app's own
# automation channel (last, so the user's shells were started when it first answers).
::sysinit:/etc/init.d/rcS
ttyS0::respawn:-/bin/sh
tty1::respawn:-/bin/sh
${AUTOMATION_CONSOLE}::respawn:${AUTOMATION_SHELL}
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
`;

/** Where the page's files appear in the guest (v86's virtio 9p device, mount tag host9p). */
export const HOST_FOLDER = "/mnt/host";
/**
 * 9p message size. Linux's virtio transport caps it at 125 pages - 3 (512000 bytes in 6.1); the
 * default 8 KiB turns 10 MiB into 1280 round trips through v86's device model.
 */
export const NINEP_MSIZE = 512000;

const HOST_FOLDER_RC = `# The page's folder: files dropped on the page appear here, downloads are copied out of here.
# cache=none: the page writes files behind the guest's back, so nothing may be cached.
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=${NINEP_MSIZE} host9p ${HOST_FOLDER} 2>/dev/null
`;

/** The fake router of v86's fetch network adapter (DHCP server, DNS, HTTP through the browser). */
export const ROUTER_IP = "192.168.86.1";
export const UDHCPC_SCRIPT = "/etc/udhcpc.script";

const NETWORK_RC = `# Network (v86's virtio-net): udhcpc keeps asking in the background, so a page that turns
# the network on later still gets its lease; lo for the programs that talk to themselves.
ifconfig lo 127.0.0.1 up
[ -e /sys/class/net/eth0 ] && udhcpc -i eth0 -s ${UDHCPC_SCRIPT} -b -A 2 >/dev/null 2>&1
`;

/**
 * udhcpc's hook: $1 says what happened, the lease is in the environment. resolv.conf lives in
 * /run (tmpfs) via a link, so a lease never writes the disk (checkpoints keep changed blocks).
 * Through `busybox`: the Debian guest has busybox but no ifconfig or route of its own.
 */
export const UDHCPC_HOOK = `#!/bin/sh
case "$1" in
deconfig) busybox ifconfig "$interface" 0.0.0.0 up ;;
bound|renew)
  busybox ifconfig "$interface" "$ip" netmask "\${subnet:-255.255.255.0}" up
  if [ -n "$router" ]; then
    while busybox route del default gw 0.0.0.0 dev "$interface" 2>/dev/null; do :; done
    for r in $router; do busybox route add default gw "$r" dev "$interface"; break; done
  fi
  : >/run/resolv.conf
  for d in $dns; do echo "nameserver $d" >>/run/resolv.conf; done
  ;;
esac
exit 0
`;

export const RCS = `#!/bin/sh
# The initramfs moves proc, sys and dev over; mount them only when booted some other way.
# (Debian's busybox-static has no mountpoint applet.)
[ -e /proc/mounts ] || mount -t proc proc /proc
grep -q " /sys " /proc/mounts || mount -t sysfs sysfs /sys
grep -q " /dev " /proc/mounts || mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
hostname -F /etc/hostname
${HOST_FOLDER_RC}${NETWORK_RC}`;

/**
 * busybox-static's wget has no working name lookup (a static glibc cannot load its DNS module
 * and crashes), so HTTP goes through the router as a proxy: v86's fetch backend takes the full
 * URL of a proxy request and fetches it in the browser. Names never need resolving in the guest.
 * (Its -T option crashes it too: use `timeout N wget ...`.)
 */
export const HTTP_PROXY = `http://${ROUTER_IP}:80/`;

export const PROFILE = `export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export HOME=/root
export http_proxy=${HTTP_PROXY}
export PS1=${shellQuote(PROMPT)}
cd "$HOME"
`;

/**
 * The shell on the automation channel. raw -echo: nothing the app types comes back and no
 * CR is added, so what arrives is exactly what a command printed (and a long line is not cut at
 * the 4 KiB of a canonical tty line). The shell reads its commands from the tty as a script
 * file, so it is not interactive: no prompt and no line editor (busybox ash echoes through its
 * editor whatever the tty says, and takes \`sh +i\` to mean -i), while commands still have the
 * tty as stdin and stdout, as on ttyS0.
 */
export const AUTOMATION_SCRIPT = `#!/bin/sh
stty raw -echo
echo "${BOOT_STAGE_PREFIX}shell"
. /etc/profile
exec /bin/sh /dev/${AUTOMATION_CONSOLE}
`;

// The static glibc in busybox-static does not accept an empty password field in passwd
// ("whoami: unknown uid 0"), so the password lives, empty, in shadow.
export const PASSWD = "root:x:0:0:root:/root:/bin/sh\n";
export const SHADOW = "root::19723:0:99999:7:::\n";
export const GROUP = "root:x:0:\n";

/** Root disk symbolic links: path (relative to the root) -> target. */
export const ROOTFS_LINKS = { "etc/resolv.conf": "/run/resolv.conf" };

/** Root disk files: path (relative to the root) -> [mode, text]. */
export function rootfsFiles() {
  return {
    "etc/inittab": [0o644, INITTAB],
    "etc/init.d/rcS": [0o755, RCS],
    "etc/profile": [0o644, PROFILE],
    "etc/hostname": [0o644, `${HOSTNAME}\n`],
    "etc/passwd": [0o644, PASSWD],
    "etc/shadow": [0o600, SHADOW],
    "etc/group": [0o644, GROUP],
    [AUTOMATION_SHELL.slice(1)]: [0o755, AUTOMATION_SCRIPT],
    "etc/fstab": [0o644, "# mounted by the initramfs and /etc/init.d/rcS\n"],
    [UDHCPC_SCRIPT.slice(1)]: [0o755, UDHCPC_HOOK],
  };
}

/** Empty directories of the root disk: path -> mode. */
export const ROOTFS_DIRS = {
  bin: 0o755, sbin: 0o755, "usr/bin": 0o755, "usr/sbin": 0o755, etc: 0o755, "etc/init.d": 0o755,
  dev: 0o755, proc: 0o555, sys: 0o555, tmp: 0o1777, run: 0o755, root: 0o700, home: 0o755,
  mnt: 0o755, [HOST_FOLDER.slice(1)]: 0o755, "var/log": 0o755, "var/tmp": 0o1777,
};

export const INITRAMFS_DIRS = {
  bin: 0o755, sbin: 0o755, "usr/bin": 0o755, "usr/sbin": 0o755, dev: 0o755, proc: 0o555,
  sys: 0o555, newroot: 0o755, "lib/modules": 0o755,
};
