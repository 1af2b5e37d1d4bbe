import { describe, expect, it } from "vitest";
import { appletLinks, appletNamesFromBinary, fallbackAppletPaths, parseListFull } from "../../../scripts/guest/busybox-applets.mjs";

describe("busybox applets", () => {
  it("parses --list-full into relative paths", () => {
    expect(parseListFull("usr/bin/[\n/sbin/init\nbin/ls\n\n")).toEqual(["usr/bin/[", "sbin/init", "bin/ls"]);
    expect(() => parseListFull("bin/../../etc/x\n")).toThrow();
  });

  it("leaves out modprobe, so the kernel does not spawn a useless helper", () => {
    expect(appletLinks(["bin/ls", "sbin/modprobe", "sbin/insmod"])).toEqual(["bin/ls", "sbin/insmod"]);
  });

  it("reads the NUL-separated name table out of a binary", () => {
    const enc = new TextEncoder();
    const bin = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]),
      Buffer.from(enc.encode("noise[x\0")),
      Buffer.from(enc.encode("[\0[[\0ash\0init\0ls\0\0")),
      Buffer.from(enc.encode("after\0")),
    ]);
    expect(appletNamesFromBinary(bin)).toEqual(["[", "[[", "ash", "init", "ls"]);
    expect(() => appletNamesFromBinary(Buffer.from("nothing here"))).toThrow();
  });

  it("puts fallback applets in bin/, except init and switch_root in sbin/", () => {
    expect(fallbackAppletPaths(["ls", "init", "switch_root"])).toEqual(["bin/ls", "sbin/init", "sbin/switch_root"]);
  });
});
