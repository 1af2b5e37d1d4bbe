import { describe, expect, it } from "vitest";
import { withoutTerminalReplies } from "../../../src/page/ui/serial-terminal";

describe("withoutTerminalReplies", () => {
  it("drops cursor-position answers and keeps what was typed, escape keys included", () => {
    expect(withoutTerminalReplies("\x1b[24;11R")).toBe("");
    expect(withoutTerminalReplies("ls\x1b[3;1R -l\r")).toBe("ls -l\r");
    expect(withoutTerminalReplies("\x1b[A\x1b[1;5C\x1b[3~\x03")).toBe("\x1b[A\x1b[1;5C\x1b[3~\x03");
  });
});
