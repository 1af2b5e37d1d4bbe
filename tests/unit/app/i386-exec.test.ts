import { describe, expect, it } from "vitest";
import { I386_MAGIC, I386_MASK, tinyI386Program } from "../../../scripts/guest/i386-exec.mjs";

/** The kernel's binfmt_misc text form ("\x7fELF\x01...") as bytes. */
const bytesOf = (escaped: string) =>
  Buffer.from(escaped.replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1");

/** What binfmt_misc does: the header under the mask equals the magic under the mask. */
function registrationMatches(header: Buffer): boolean {
  const magic = bytesOf(I386_MAGIC);
  const mask = bytesOf(I386_MASK);
  return magic.every((m, i) => (header[i] & mask[i]) === (m & mask[i]));
}

describe("running the guest's i386 programs on the build machine", () => {
  it("the probe program is a static i386 executable whose entry lies in its one loaded segment", () => {
    const elf = tinyI386Program();
    expect(elf.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect([elf[4], elf[5]]).toEqual([1, 1]); // 32-bit, little-endian
    expect(elf.readUInt16LE(18)).toBe(3); // EM_386
    const vaddr = elf.readUInt32LE(60);
    const entry = elf.readUInt32LE(24);
    expect(entry).toBeGreaterThanOrEqual(vaddr);
    expect(entry).toBeLessThan(vaddr + elf.readUInt32LE(68));
    // exit(42) through int 0x80, the last bytes of the file.
    expect([...elf.subarray(-2)]).toEqual([0xcd, 0x80]);
  });

  it("QEMU's registration catches the probe, i386 PIEs, and not x86-64 or ARM programs", () => {
    const elf = tinyI386Program();
    expect(bytesOf(I386_MAGIC)).toHaveLength(20);
    expect(bytesOf(I386_MASK)).toHaveLength(20);
    expect(registrationMatches(elf)).toBe(true);
    const pie = Buffer.from(elf);
    pie.writeUInt16LE(3, 16); // ET_DYN: Debian's programs are PIEs
    expect(registrationMatches(pie)).toBe(true);
    const x64 = Buffer.from(elf);
    x64[4] = 2; // ELFCLASS64
    x64.writeUInt16LE(62, 18); // EM_X86_64
    expect(registrationMatches(x64)).toBe(false);
    const arm = Buffer.from(elf);
    arm.writeUInt16LE(40, 18); // EM_ARM
    expect(registrationMatches(arm)).toBe(false);
  });
});
