import { describe, expect, it } from "vitest";
import { HOST_FOLDER, INITTAB, NINEP_MSIZE, PROFILE, PROMPT, RCS, ROOTFS_DIRS, ROOTFS_LINKS, UDHCPC_HOOK, initScript, rootfsFiles } from "../../../scripts/guest/guest-files.mjs";

describe("initramfs /init", () => {
  const init = initScript(["scsi_common", "libata", "ext4"]);

  it("insmods the modules in the order given", () => {
    expect(init).toContain("for m in scsi_common libata ext4; do");
    expect(init).toContain("insmod /lib/modules/$m.ko");
  });

  it("mounts the disk read-write and hands over with switch_root", () => {
    expect(init).toMatch(/mount -t ext4 -o rw[^\n]* \/dev\/sda \/newroot/);
    expect(init.trimEnd().split("\n").at(-1)).toBe("exec switch_root /newroot /sbin/init");
  });

  it("falls back to a shell on the serial line", () => {
    expect(init).toContain("</dev/ttyS0 >/dev/ttyS0");
  });

  it("refuses module names that would break the script", () => {
    expect(() => initScript(["ok", "bad; rm -rf /"])).toThrow();
  });
});

describe("root disk files", () => {
  it("runs rcS, a serial and a VGA shell from inittab", () => {
    const lines = INITTAB.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(lines).toEqual([
      "::sysinit:/etc/init.d/rcS",
      "ttyS0::respawn:-/bin/sh",
      "tty1::respawn:-/bin/sh",
      "ttyS1::respawn:/sbin/snap86-automation",
      "::ctrlaltdel:/sbin/reboot",
      "::shutdown:/bin/umount -a -r",
    ]);
  });

  it("has a fixed prompt ending in '# ' for the app to detect", () => {
    expect(PROMPT.endsWith("# ")).toBe(true);
    expect(PROFILE).toContain(`PS1='${PROMPT}'`);
  });

  it("mounts tmpfs on /tmp and /run and sets the hostname", () => {
    expect(RCS).toMatch(/tmpfs \/tmp/);
    expect(RCS).toMatch(/tmpfs \/run/);
    expect(RCS).toContain("hostname -F /etc/hostname");
    expect(rootfsFiles()["etc/hostname"][1]).toBe("snap86\n");
    expect(rootfsFiles()["etc/init.d/rcS"][0]).toBe(0o755);
  });
});

describe("automation channel", () => {
  it("runs a quiet, non-interactive root shell on ttyS1", () => {
    const [mode, text] = rootfsFiles()["sbin/snap86-automation"];
    expect(mode).toBe(0o755);
    expect(text).toContain("stty raw -echo");
    expect(text).toMatch(/exec \/bin\/sh \/dev\/ttyS1\n$/);
  });
});

describe("accounts", () => {
  it("names uid 0 in a form busybox-static's glibc accepts (password field not empty)", () => {
    const files = rootfsFiles();
    const fields = files["etc/passwd"][1].trim().split(":");
    expect(fields).toHaveLength(7);
    expect(fields[1]).not.toBe("");
    expect(fields.slice(0, 3)).toEqual(["root", "x", "0"]);
    expect(files["etc/shadow"][0]).toBe(0o600);
  });
});

describe("host folder and network", () => {
  it("mounts v86's 9p device (tag host9p) uncached with a large msize at /mnt/host", () => {
    expect(HOST_FOLDER).toBe("/mnt/host");
    expect(ROOTFS_DIRS["mnt/host"]).toBe(0o755);
    expect(RCS).toContain(`-o trans=virtio,version=9p2000.L,cache=none,msize=${NINEP_MSIZE} host9p /mnt/host`);
    expect(NINEP_MSIZE).toBeLessThanOrEqual(512000);
  });

  it("asks for a lease in the background with its own hook, and keeps resolv.conf off the disk", () => {
    expect(RCS).toMatch(/udhcpc -i eth0 -s \/etc\/udhcpc\.script -b /);
    expect(rootfsFiles()["etc/udhcpc.script"][0]).toBe(0o755);
    expect(UDHCPC_HOOK).toContain('busybox ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up');
    expect(UDHCPC_HOOK).toContain('echo "nameserver $d" >>/run/resolv.conf');
    expect(ROOTFS_LINKS["etc/resolv.conf"]).toBe("/run/resolv.conf");
  });
});
