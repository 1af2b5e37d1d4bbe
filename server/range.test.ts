import { describe, expect, it } from "vitest";
import { parseRange } from "./range.js";

describe("parseRange", () => {
  it("returns none without a header", () => {
    expect(parseRange(undefined, 10)).toEqual({ kind: "none" });
  });
  it.each([
    ["bytes=0-0", 0, 0],
    ["bytes=2-5", 2, 5],
    ["bytes=7-", 7, 9],
    ["bytes=5-999", 5, 9],
    ["bytes=-3", 7, 9],
    ["bytes=-50", 0, 9],
  ])("%s on 10 bytes", (header, start, end) => {
    expect(parseRange(header, 10)).toEqual({ kind: "range", range: { start, end } });
  });
  it.each(["bytes=10-", "bytes=10-12", "bytes=5-2", "bytes=-0", "bytes=-", "items=0-1", "bytes=0-1,3-4", "bytes=a-b", "bytes 0-1", ""])(
    "%j is unsatisfiable on 10 bytes",
    (header) => {
      expect(parseRange(header, 10)).toEqual({ kind: "unsatisfiable" });
    },
  );
  it("nothing is satisfiable on an empty object", () => {
    expect(parseRange("bytes=0-", 0).kind).toBe("unsatisfiable");
    expect(parseRange("bytes=-1", 0).kind).toBe("unsatisfiable");
  });
});
