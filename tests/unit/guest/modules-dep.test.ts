import { describe, expect, it } from "vitest";
import { moduleFileName, parseModulesBuiltin, parseModulesDep, resolveLoadOrder } from "../../../scripts/guest/modules-dep.mjs";

// Shaped like Debian 6.1's real modules.dep for the disk path (deepest dependencies last).
const FAKE_DEP = `kernel/drivers/scsi/scsi_common.ko:
kernel/drivers/scsi/scsi_mod.ko: kernel/drivers/scsi/scsi_common.ko
kernel/drivers/ata/libata.ko: kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko
kernel/drivers/ata/ata_piix.ko: kernel/drivers/ata/libata.ko kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko
kernel/lib/crc64.ko:
kernel/crypto/crct10dif_common.ko:
kernel/lib/crc-t10dif.ko: kernel/crypto/crct10dif_common.ko
kernel/lib/crc64-rocksoft.ko: kernel/lib/crc64.ko
kernel/block/t10-pi.ko: kernel/lib/crc64-rocksoft.ko kernel/lib/crc-t10dif.ko kernel/lib/crc64.ko kernel/crypto/crct10dif_common.ko
kernel/drivers/scsi/sd_mod.ko: kernel/block/t10-pi.ko kernel/lib/crc64-rocksoft.ko kernel/lib/crc-t10dif.ko kernel/drivers/scsi/scsi_mod.ko kernel/drivers/scsi/scsi_common.ko kernel/lib/crc64.ko kernel/crypto/crct10dif_common.ko
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/lib/crc16.ko:
kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/crypto/crc32c_generic.ko:
kernel/fs/unrelated.ko: kernel/lib/crc16.ko
`;

const names = (paths: string[]) => paths.map(moduleFileName);

/** Every module must come after all the modules it depends on, and appear once. */
function expectValidOrder(order: string[], dep: Map<string, string[]>) {
  expect(new Set(order).size).toBe(order.length);
  order.forEach((path, i) => {
    for (const d of dep.get(path) ?? []) expect(order.indexOf(d), `${d} before ${path}`).toBeGreaterThanOrEqual(0);
    for (const d of dep.get(path) ?? []) expect(order.indexOf(d)).toBeLessThan(i);
  });
}

describe("modules.dep resolution", () => {
  const dep = parseModulesDep(FAKE_DEP);

  it("parses entries with and without dependencies", () => {
    expect(dep.get("kernel/drivers/scsi/scsi_common.ko")).toEqual([]);
    expect(dep.get("kernel/fs/ext4/ext4.ko")).toEqual(["kernel/lib/crc16.ko", "kernel/fs/mbcache.ko", "kernel/fs/jbd2/jbd2.ko"]);
  });

  it("loads the disk path in dependency order, with nothing unrequested", () => {
    const order = resolveLoadOrder(dep, ["ata_piix", "sd_mod", "crc32c_generic", "ext4"]);
    expectValidOrder(order, dep);
    expect(names(order)).toEqual([
      "scsi_common", "scsi_mod", "libata", "ata_piix",
      "crct10dif_common", "crc64", "crc-t10dif", "crc64-rocksoft", "t10-pi", "sd_mod",
      "crc32c_generic", "jbd2", "mbcache", "crc16", "ext4",
    ]);
  });

  it("treats - and _ in names alike, as the kernel does", () => {
    expect(names(resolveLoadOrder(dep, ["crc_t10dif"]))).toEqual(["crct10dif_common", "crc-t10dif"]);
  });

  it("still orders correctly when a dependency list is not deepest-last", () => {
    const shuffled = parseModulesDep(
      "a.ko: c.ko b.ko\nb.ko: c.ko\nc.ko:\n", // c listed first although b needs it
    );
    const order = resolveLoadOrder(shuffled, ["a"]);
    expectValidOrder(order, shuffled);
    expect(order).toEqual(["c.ko", "b.ko", "a.ko"]);
  });

  it("skips built-in modules and rejects unknown ones", () => {
    const builtin = parseModulesBuiltin("kernel/fs/ext4/ext4.ko\nkernel/crypto/crc32c-generic.ko\n");
    expect(resolveLoadOrder(parseModulesDep("kernel/x.ko:\n"), ["crc32c_generic", "x"], builtin)).toEqual(["kernel/x.ko"]);
    expect(() => resolveLoadOrder(dep, ["no_such_module"])).toThrow(/no_such_module/);
  });

  it("reports cycles and dangling dependencies instead of looping", () => {
    expect(() => resolveLoadOrder(parseModulesDep("a.ko: b.ko\nb.ko: a.ko\n"), ["a"])).toThrow(/cycle/);
    expect(() => resolveLoadOrder(parseModulesDep("a.ko: gone.ko\n"), ["a"])).toThrow(/gone\.ko/);
  });

  it("names modules by file, whatever the compression suffix", () => {
    expect(moduleFileName("kernel/lib/crc-t10dif.ko.xz")).toBe("crc-t10dif");
    expect(moduleFileName("kernel/fs/ext4/ext4.ko")).toBe("ext4");
  });
});
