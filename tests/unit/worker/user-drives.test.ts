import { afterEach, describe, expect, it, vi } from "vitest";
import { attachUserDrives, bootOrderOf, openUserDrives, openUserImage } from "../../../src/emulator/user-drives";
import { sizeFromContentRange } from "../../../src/protocol/media-kind";
import { V86Disk } from "../../../src/disk";
import { MEDIA_HEAD_BYTES } from "../../../src/protocol/media-kind";

const progress = { progress: () => undefined, db: null, keep: false, notice: () => undefined };
const KIB = 1024;

/** A floppy-sized image with a boot sector, and a server that answers Range requests (or not). */
function floppy(): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(1440 * KIB);
  b[510] = 0x55;
  b[511] = 0xaa;
  b[4096] = 7;
  return b;
}

function serve(image: Uint8Array, { ranges = true, exposeRange = true } = {}) {
  const requests: (string | null)[] = [];
  vi.stubGlobal("fetch", async (_url: string, init?: RequestInit) => {
    const range = new Headers(init?.headers).get("range");
    requests.push(range);
    const m = ranges ? /bytes=(\d+)-(\d+)/.exec(range ?? "") : null;
    if (!m) return new Response(image.slice(), { status: 200, headers: { "content-type": "application/octet-stream" } });
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), image.byteLength - 1);
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    if (exposeRange) headers["content-range"] = `bytes ${start}-${end}/${image.byteLength}`;
    return new Response(image.slice(start, end + 1), { status: 206, headers });
  });
  return requests;
}

afterEach(() => vi.unstubAllGlobals());

describe("a user's image by URL", () => {
  it("is read by Range where the server allows it: one block to decide, then only the blocks the guest reads", async () => {
    const image = floppy();
    const requests = serve(image);
    const opened = await openUserImage({ url: "http://images.test/dos.img" }, progress);
    expect(opened).toMatchObject({ name: "dos.img", kind: "fda", access: "range", size: image.byteLength });
    expect(requests).toEqual(["bytes=0-65535"]);
    const block = await opened.base.readBlock(0);
    expect(block[4096]).toBe(7);
    expect(requests.every((r) => r !== null)).toBe(true);
  });

  it("is downloaded whole, once, from a server without Range", async () => {
    const image = floppy();
    const requests = serve(image, { ranges: false });
    const opened = await openUserImage({ url: "http://images.test/dos.img" }, progress);
    expect(opened).toMatchObject({ kind: "fda", access: "whole", size: image.byteLength });
    expect((await opened.base.readBlock(0))[4096]).toBe(7);
    expect(requests).toHaveLength(1);
  });

  it("is downloaded whole when the server answers a range but hides the size (Content-Range not exposed)", async () => {
    serve(floppy(), { exposeRange: false });
    expect((await openUserImage({ url: "http://images.test/dos.img" }, progress)).access).toBe("whole");
  });

  it("says an empty file is empty, whether the server answers its range with 416 or sends nothing", async () => {
    vi.stubGlobal("fetch", async () => new Response(null, { status: 416, headers: { "content-range": "bytes */0" } }));
    await expect(openUserImage({ url: "http://images.test/empty.img" }, progress)).rejects.toThrow(/is empty/);
    vi.stubGlobal("fetch", async () => new Response(new Uint8Array(0), { status: 200 }));
    await expect(openUserImage({ url: "http://images.test/empty.img" }, progress)).rejects.toThrow(/is empty/);
  });

  it("says what is wrong with a 404 and a web page", async () => {
    vi.stubGlobal("fetch", async () => new Response("no", { status: 404 }));
    await expect(openUserImage({ url: "http://images.test/none.img" }, progress)).rejects.toMatchObject({ code: "image-not-found" });
    vi.stubGlobal("fetch", async () => new Response("<html>", { status: 200, headers: { "content-type": "text/html" } }));
    await expect(openUserImage({ url: "http://images.test/" }, progress)).rejects.toThrow(/web page/);
  });
});

describe("a user's image as a file", () => {
  it("is read by slices, never whole", async () => {
    const big = new Blob([floppy()]);
    const sliced: number[] = [];
    const spy = new Proxy(big, {
      get(target, prop) {
        if (prop === "slice") return (a: number, b: number) => (sliced.push(b - a), target.slice(a, b));
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    Object.setPrototypeOf(spy, Blob.prototype);
    const opened = await openUserImage({ name: "dos.img", file: spy }, progress);
    expect(opened).toMatchObject({ kind: "fda", access: "file" });
    await opened.base.readBlock(3);
    expect(sliced).toEqual([MEDIA_HEAD_BYTES, 64 * KIB]);
  });

  it("that is unreadable says so", async () => {
    const broken = new Blob([new Uint8Array(512)]);
    broken.slice = () => ({ arrayBuffer: () => Promise.reject(new Error("NotReadableError")) }) as unknown as Blob;
    await expect(openUserImage({ name: "gone.img", file: broken }, progress)).rejects.toThrow(/could not be read/);
  });
});

describe("several drives", () => {
  it("refuses two images for one drive, naming both", async () => {
    const a = { name: "a.img", bytes: floppy().buffer as ArrayBuffer };
    const b = { name: "b.img", bytes: floppy().buffer as ArrayBuffer };
    await expect(openUserDrives([a, b], progress)).rejects.toThrow(/a\.img and b\.img both go in the floppy drive/);
  });

  it("refuses a floppy larger than 2.88 MiB", async () => {
    await expect(openUserImage({ kind: "fda", name: "big.img", bytes: new ArrayBuffer(4 * 1024 * KIB) }, progress)).rejects.toThrow(/too large for a floppy/);
  });

  it("boot order: the drives listed first are tried first, the others after", () => {
    // As v86 numbers them (its own defaults: floppy first 0x321, hard disk first 0x312, CD-ROM first 0x123).
    expect(bootOrderOf(["fda", "hda", "cdrom"])).toBe(0x321);
    expect(bootOrderOf(["hda", "fda"])).toBe(0x312);
    expect(bootOrderOf(["cdrom"])).toBe(0x123);
    expect(bootOrderOf(["fda"])).toBe(0x231);
  });

  it("reads the total size from Content-Range", () => {
    expect(sizeFromContentRange("bytes 0-65535/1474560")).toBe(1474560);
    expect(sizeFromContentRange("bytes 0-65535/*")).toBeNull();
    expect(sizeFromContentRange(null)).toBeNull();
  });
});

describe("the disks v86 gets", () => {
  it("a CD-ROM is read-only: the guest's writes are refused, the image never changes", async () => {
    const iso = new Uint8Array(64 * KIB);
    iso.set([..."CD001"].map((c) => c.charCodeAt(0)), 0x8001);
    const image = await openUserImage({ name: "x.iso", bytes: iso.buffer }, progress);
    const { options, sessions } = await attachUserDrives([image], { secure: true, notice: () => undefined });
    expect(sessions).toEqual([]);
    expect(options.cdrom).toBeInstanceOf(V86Disk);
    expect((options.cdrom as V86Disk).readOnly).toBe(true);
    expect(options.boot_order).toBe(0x123);
  });
});
