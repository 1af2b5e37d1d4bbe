import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { findCycle, folderGraph } from "../../../scripts/folder-graph.mjs";

describe("folder graph of src/", () => {
  it("has no import cycle between first-level folders (scripts/folder-graph.mjs exits 0)", () => {
    const printed = execFileSync(process.execPath, ["scripts/folder-graph.mjs"], { encoding: "utf8" });
    expect(printed).toContain("no cycle");
    expect(findCycle(folderGraph())).toBeUndefined();
  });

  it("finds a cycle when there is one", () => {
    const edges = new Map([
      ["a", new Set(["b"])],
      ["b", new Set(["c"])],
      ["c", new Set(["a"])],
    ]);
    expect(findCycle(edges)).toEqual(["a", "b", "c", "a"]);
  });

  it("share depends on checkpoint, never the reverse; protocol depends on nothing", () => {
    const g = folderGraph();
    expect(g.get("checkpoint")?.has("share")).toBe(false);
    expect([...(g.get("protocol") ?? [])]).toEqual([]);
  });
});
