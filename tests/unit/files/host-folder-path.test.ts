import { describe, expect, it } from "vitest";
import { HOST_FOLDER, hostFolderPath, inHostFolder } from "../../../src/protocol/files";
import { HOST_FOLDER as BUILT_HOST_FOLDER } from "../../../scripts/guest/guest-files.mjs";
import { copyOutCommand, MAX_UPLOAD_BYTES, shellQuote, toBytes, uploadFile } from "../../../src/page/guest-files";

describe("host folder paths", () => {
  it("is where the guest build mounts it", () => {
    expect(HOST_FOLDER).toBe(BUILT_HOST_FOLDER);
  });

  it("takes paths relative to the folder or absolute under it", () => {
    expect(hostFolderPath("a.txt")).toBe("a.txt");
    expect(hostFolderPath("dir//b.txt")).toBe("dir/b.txt");
    expect(hostFolderPath("/mnt/host/dir/c.bin")).toBe("dir/c.bin");
  });

  it("refuses the folder itself, other guest paths, dot segments and NUL", () => {
    for (const bad of ["", "/mnt/host", "/mnt/host/", "/etc/passwd", "/mnt/hostile/x", "../x", "a/./b", "a/../../b", "a\0b"]) {
      expect(() => hostFolderPath(bad), bad).toThrow(expect.objectContaining({ code: "invalid-argument" }));
    }
  });

  it("knows which guest paths are read straight from the folder", () => {
    expect(inHostFolder("/mnt/host/x")).toBe(true);
    expect(inHostFolder("/mnt/hostx")).toBe(false);
    expect(inHostFolder("/root/x")).toBe(false);
  });
});

describe("copying a guest file out", () => {
  it("quotes any path for the shell", () => {
    expect(shellQuote("/root/it's here")).toBe(`'/root/it'\\''s here'`);
  });

  it("tells a missing file from a failed copy, and copies in 1 MiB blocks", () => {
    const cmd = copyOutCommand("/root/a b", ".copy-1");
    expect(cmd).toBe(`if [ ! -f '/root/a b' ]; then echo missing; elif dd if='/root/a b' of='/mnt/host/.copy-1' bs=1M 2>/dev/null; then echo copied; else echo failed; fi`);
  });

  it("refuses a file larger than the folder takes before reading it", async () => {
    const put = () => Promise.reject(new Error("must not be called"));
    const deps = { files: () => ({ put, get: put, remove: put }), run: put } as unknown as Parameters<typeof uploadFile>[0];
    const huge = Object.create(Blob.prototype, { size: { value: MAX_UPLOAD_BYTES + 1 } }) as Blob;
    await expect(uploadFile(deps, "big.iso", huge)).rejects.toMatchObject({ code: "invalid-argument", message: expect.stringContaining("up to 256 MiB") });
  });

  it("takes text, bytes, views and blobs", async () => {
    expect(Array.from(await toBytes("hé"))).toEqual([0x68, 0xc3, 0xa9]);
    expect(Array.from(await toBytes(new Uint8Array([1, 2, 3]).buffer))).toEqual([1, 2, 3]);
    expect(Array.from(await toBytes(new Uint16Array([0x0201])))).toEqual([1, 2]);
    expect(Array.from(await toBytes(new Blob([new Uint8Array([9])])))).toEqual([9]);
    await expect(toBytes(42 as unknown as string)).rejects.toMatchObject({ code: "invalid-argument" });
  });
});
