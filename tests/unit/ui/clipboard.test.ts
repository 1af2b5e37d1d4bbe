import { describe, expect, it } from "vitest";
import { textToScancodes, toTerminalInput, typeIntoScreen } from "../../../src/page/ui/clipboard";

describe("clipboard text as input", () => {
  it("types text as key presses of a US keyboard, with Shift around shifted characters", () => {
    expect(textToScancodes("a").codes).toEqual([0x1e, 0x9e]);
    expect(textToScancodes("A").codes).toEqual([0x2a, 0x1e, 0x9e, 0xaa]);
    expect(textToScancodes("$").codes).toEqual([0x2a, 0x05, 0x85, 0xaa]);
    // CRLF and CR are one Enter.
    expect(textToScancodes("\r\n").codes).toEqual([0x1c, 0x9c]);
    expect(textToScancodes("x\ry").codes).toEqual([0x2d, 0xad, 0x1c, 0x9c, 0x15, 0x95]);
  });

  it("counts what a US keyboard cannot type instead of sending it", () => {
    expect(textToScancodes("é€a")).toEqual({ codes: [0x1e, 0x9e], skipped: 2 });
  });

  it("feeds a long paste to the keyboard in slices, in order", async () => {
    globalThis.requestAnimationFrame ??= ((cb: FrameRequestCallback) => setTimeout(() => cb(0), 0)) as unknown as typeof requestAnimationFrame;
    const sent: number[][] = [];
    const text = "echo hello world\n".repeat(20);
    const skipped = await typeIntoScreen(text, async (codes) => void sent.push(codes));
    expect(skipped).toBe(0);
    expect(sent.length).toBeGreaterThan(1);
    expect(sent.every((s) => s.length <= 256)).toBe(true);
    expect(sent.flat()).toEqual(textToScancodes(text).codes);
  });

  it("sends newlines to the terminal as the Enter key's CR", () => {
    expect(toTerminalInput("a\nb\r\nc")).toBe("a\rb\rc");
  });
});
