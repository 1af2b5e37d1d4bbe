// Where busybox's applet symlinks go. The normal source is `busybox --list-full`, run on the
// build host; that needs a host that can execute i386 binaries, so there is a fallback that
// reads the applet name table out of the binary.

/** Parses `busybox --list-full` output ("usr/bin/[", "sbin/init", ...) into relative paths. */
export function parseListFull(text) {
  const paths = text.split("\n").map((l) => l.trim().replace(/^\/+/, "")).filter((l) => l !== "");
  for (const p of paths) if (p.includes("..")) throw new Error(`busybox applet path escapes the root: ${p}`);
  return paths;
}

/**
 * Reads the applet names out of a busybox binary: they are stored as one sorted,
 * NUL-separated run starting with "[" and "[[", ended by an empty name.
 */
export function appletNamesFromBinary(buf) {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const start = bytes.indexOf(Buffer.from("[\0[[\0", "latin1"));
  if (start < 0) throw new Error("no applet name table found in the busybox binary");
  const names = [];
  let at = start;
  for (;;) {
    const end = bytes.indexOf(0, at);
    if (end < 0 || end === at) break;
    names.push(bytes.toString("latin1", at, end));
    at = end + 1;
  }
  return names;
}

/** Without install locations everything goes to bin/, except what the boot path needs in sbin/. */
export function fallbackAppletPaths(names) {
  const inSbin = new Set(["init", "switch_root", "reboot", "poweroff", "halt"]);
  return names.map((n) => (inSbin.has(n) ? `sbin/${n}` : `bin/${n}`));
}

/**
 * Applets left out of the guest: with no /sbin/modprobe the kernel's request_module()
 * fails at once instead of spawning a helper that cannot find any modules anyway.
 */
export const OMITTED_APPLETS = new Set(["modprobe"]);

export function appletLinks(paths) {
  return paths.filter((p) => {
    const name = p.slice(p.lastIndexOf("/") + 1);
    return !OMITTED_APPLETS.has(name) && name !== "busybox";
  });
}
