import { beforeEach, describe, expect, it, vi } from "vitest";
import { rememberedMachine, rememberMachine } from "../../../src/page/last-machine";
import { fileImageId } from "../../../src/protocol/machine-config";

beforeEach(() => {
  const items = new Map<string, string>();
  vi.stubGlobal("localStorage", {
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => void items.set(k, v),
    removeItem: (k: string) => void items.delete(k),
  });
});

describe("the machine a reload brings back", () => {
  it("is the user's drives: URLs as they are, picked files by their kept copy's id", () => {
    const file = new File([new Uint8Array(512)], "dos.img", { lastModified: 7 });
    rememberMachine({ memoryMiB: 64, vgaMemoryMiB: 4, drives: [{ kind: "fda", name: "dos.img", file }, { kind: "auto", url: "https://x/y.iso" }] });
    expect(rememberedMachine()).toEqual({
      memoryMiB: 64,
      drives: [
        { kind: "fda", stored: fileImageId("dos.img", file) },
        { kind: "auto", url: "https://x/y.iso" },
      ],
    });
    expect(fileImageId("dos.img", file)).toBe("file:dos.img#512#7");
  });

  it("is nothing after the built-in guest booted, or an image that cannot come back (bytes)", () => {
    rememberMachine({ memoryMiB: 64, vgaMemoryMiB: 4, image: { url: "/a.img" } });
    rememberMachine({ memoryMiB: 128, vgaMemoryMiB: 4 });
    expect(rememberedMachine()).toBeUndefined();
    rememberMachine({ memoryMiB: 64, vgaMemoryMiB: 4, image: { name: "b", bytes: new ArrayBuffer(512) } });
    expect(rememberedMachine()).toBeUndefined();
  });
});
