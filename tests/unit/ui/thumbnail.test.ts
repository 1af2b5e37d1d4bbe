import { describe, expect, it } from "vitest";
import { bytesToBase64, thumbnailDataUrl, thumbnailMime, thumbnailSize } from "../../../src/page/ui/thumbnail";

describe("thumbnailSize", () => {
  it("scales the 720x400 text screen to 160 px wide, keeping the aspect ratio", () => {
    expect(thumbnailSize(720, 400)).toEqual({ width: 160, height: 89 });
  });
  it("never upscales a small screen", () => {
    expect(thumbnailSize(120, 80)).toEqual({ width: 120, height: 80 });
  });
  it("never returns a zero side for very wide images, and 0x0 for empty canvases", () => {
    expect(thumbnailSize(10_000, 10)).toEqual({ width: 160, height: 1 });
    expect(thumbnailSize(0, 400)).toEqual({ width: 0, height: 0 });
  });
});

describe("bytesToBase64", () => {
  it("matches Node's encoder, also past the chunk size", () => {
    const bytes = new Uint8Array(100_003);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
    expect(bytesToBase64(new Uint8Array())).toBe("");
  });
});

describe("thumbnailMime", () => {
  it("accepts the formats the protocol allows and rejects the rest", () => {
    expect(thumbnailMime("image/webp")).toBe("image/webp");
    expect(thumbnailMime("image/png")).toBe("image/png");
    expect(thumbnailMime("image/gif")).toBeUndefined();
    expect(thumbnailMime("")).toBeUndefined();
  });
  it("builds a data URL the list's <img> can show", () => {
    expect(thumbnailDataUrl({ mime: "image/png", base64: "AAAA" })).toBe("data:image/png;base64,AAAA");
  });
});
