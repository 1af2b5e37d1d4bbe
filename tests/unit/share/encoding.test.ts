import { describe, expect, it } from "vitest";
import { fromBase64Url, toBase64Url, toHex } from "../../../src/share/encoding";
import { mulberry32 } from "./prng";

describe("base64url", () => {
  it("matches Node's base64url for every length 0..64 and round-trips", () => {
    const rng = mulberry32(7);
    for (let length = 0; length <= 64; length++) {
      const bytes = rng.bytes(length);
      const text = toBase64Url(bytes);
      expect(text).toBe(Buffer.from(bytes).toString("base64url"));
      expect(fromBase64Url(text)).toEqual(bytes);
    }
  });

  it("refuses other alphabets, padding, impossible lengths and non-zero trailing bits", () => {
    expect(fromBase64Url("ab+/")).toBeNull();
    expect(fromBase64Url("YQ==")).toBeNull();
    expect(fromBase64Url("YWJjZ")).toBeNull();
    expect(fromBase64Url("YR")).toBeNull(); // "YQ" is the canonical spelling of "a"
    expect(fromBase64Url("YQ")).toEqual(Uint8Array.of(0x61));
  });
});

describe("hex", () => {
  it("matches Node's hex", () => {
    const bytes = mulberry32(8).bytes(100);
    expect(toHex(bytes)).toBe(Buffer.from(bytes).toString("hex"));
  });
});
