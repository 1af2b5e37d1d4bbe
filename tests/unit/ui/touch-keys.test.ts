import { describe, expect, it } from "vitest";
import { keyForChar } from "../../../src/page/ui/scancodes";
import { controlChar, pressCodes } from "../../../src/page/ui/touch-keys";

describe("keys from a touch keyboard", () => {
  it("maps characters to the keys of a US keyboard, with Shift where it takes one", () => {
    expect(keyForChar("a")).toEqual({ code: "KeyA", shift: false });
    expect(keyForChar("A")).toEqual({ code: "KeyA", shift: true });
    expect(keyForChar("7")).toEqual({ code: "Digit7", shift: false });
    expect(keyForChar("$")).toEqual({ code: "Digit4", shift: true });
    expect(keyForChar("/")).toEqual({ code: "Slash", shift: false });
    expect(keyForChar("é")).toBeUndefined();
  });

  it("presses Ctrl and Shift around a key, make then break codes", () => {
    expect(pressCodes("KeyC", { ctrl: true, shift: false })).toEqual([0x1d, 0x2e, 0xae, 0x9d]);
    expect(pressCodes("Digit4", { ctrl: false, shift: true })).toEqual([0x2a, 0x05, 0x85, 0xaa]);
    expect(pressCodes("ArrowUp", { ctrl: false, shift: false })).toEqual([0xe0, 0x48, 0xe0, 0xc8]);
  });

  it("sends Ctrl+letter to a serial terminal as its control character", () => {
    expect(controlChar("c")).toBe("\x03");
    expect(controlChar("U")).toBe("\x15");
    expect(controlChar("1")).toBe("1");
  });
});
