import { describe, expect, it } from "vitest";
import { detectMediaKind, FLOPPY_SIZES, MEDIA_HEAD_BYTES } from "../../../src/protocol/media-kind";

const KIB = 1024;

function head({ boot = false, iso = false, partition = false } = {}): Uint8Array {
  const h = new Uint8Array(MEDIA_HEAD_BYTES);
  if (boot || partition) {
    h[510] = 0x55;
    h[511] = 0xaa;
  }
  if (partition) {
    h[446] = 0x80; // bootable
    h[446 + 4] = 0x0c; // FAT32 LBA
  }
  if (iso) h.set([..."CD001"].map((c) => c.charCodeAt(0)), 0x8001);
  return h;
}

describe("detectMediaKind", () => {
  it.each([...FLOPPY_SIZES.keys()])("a %i-byte image with a boot sector is a floppy, whatever its name", (size) => {
    for (const name of ["disk.img", "DOS.IMA", "x.vfd", "boot.dsk", "no-extension", "https://example.org/a/b.img?x=1"]) {
      expect(detectMediaKind(head({ boot: true }), size, name)).toMatchObject({ kind: "fda" });
    }
  });

  it("an ISO 9660 signature makes a CD-ROM, whatever its name or size", () => {
    expect(detectMediaKind(head({ iso: true }), 700 * 1024 * KIB, "install.img")).toEqual({ kind: "cdrom", reason: "ISO 9660 signature" });
    expect(detectMediaKind(head({ iso: true }), 1440 * KIB, "tiny.bin").kind).toBe("cdrom");
  });

  it("a floppy-sized ISO that also has a boot sector (GRUB's rescue floppy) is a floppy, unless named .iso", () => {
    expect(detectMediaKind(head({ iso: true, boot: true }), 1440 * KIB, "grub-rescue-floppy.img")).toEqual({ kind: "fda", reason: "1.44 MB floppy size, boot sector (a hybrid ISO)" });
    expect(detectMediaKind(head({ iso: true, partition: true }), 1440 * KIB, "rescue.img").kind).toBe("fda");
    expect(detectMediaKind(head({ iso: true, partition: true }), 600 * 1024 * KIB, "netinst.img").kind).toBe("cdrom");
    expect(detectMediaKind(head({ iso: true, boot: true }), 1440 * KIB, "small.iso").kind).toBe("cdrom");
  });

  it("a partition table makes a hard disk, even at a floppy size", () => {
    expect(detectMediaKind(head({ partition: true }), 1440 * KIB, "disk.img")).toEqual({ kind: "hda", reason: "partition table" });
    expect(detectMediaKind(head({ partition: true }), 64 * 1024 * KIB, "disk.img").kind).toBe("hda");
  });

  it("any other size is a hard disk; a name decides only what the bytes leave open", () => {
    expect(detectMediaKind(head({ boot: true }), 10 * 1024 * KIB, "freedos.img").kind).toBe("hda");
    expect(detectMediaKind(head({ boot: true }), 1440 * KIB, "small.hdd").kind).toBe("hda");
    expect(detectMediaKind(head(), 4 * 1024 * KIB, "old.iso")).toMatchObject({ kind: "cdrom" });
    expect(detectMediaKind(head({ boot: true }), 1000 * KIB, "odd.ima")).toMatchObject({ kind: "fda" });
  });

  it("reads a head shorter than an ISO descriptor (a tiny image) without failing", () => {
    const tiny = new Uint8Array(512);
    tiny[510] = 0x55;
    tiny[511] = 0xaa;
    expect(detectMediaKind(tiny, 512, "sector.bin").kind).toBe("hda");
  });
});
