import { describe, expect, it } from "vitest";
import type { CheckpointInfo } from "../../../src/protocol";
import { buildCheckpointTree } from "../../../src/page/ui/checkpoint-tree";

function cp(id: string, parent: string | null, created: number, extra: Partial<CheckpointInfo> = {}): CheckpointInfo {
  return {
    id, parent, label: id, created, autosave: false, golden: false, machineKey: "m", thumbnail: null, ramBytes: 0, storedBytes: 0,
    ownBytes: 0, sharedBytes: 0, diskLayerId: null, current: false, ...extra,
  };
}

const layout = (list: CheckpointInfo[]) => buildCheckpointTree(list).map((r) => `${"  ".repeat(r.depth)}${r.info.id}`);

describe("buildCheckpointTree", () => {
  it("is empty for no checkpoints", () => {
    expect(buildCheckpointTree([])).toEqual([]);
  });

  it("puts a linear history one under the other, each indented under its parent", () => {
    // Given out of order on purpose: the tree must not depend on the worker's order.
    expect(layout([cp("c", "b", 3), cp("a", null, 1), cp("b", "a", 2)])).toEqual(["a", "  b", "    c"]);
  });

  it("shows a branch (restore of an older checkpoint, then a new one) as a sibling subtree", () => {
    const list = [cp("a", null, 1), cp("b", "a", 2), cp("c", "b", 3), cp("d", "a", 4), cp("e", "d", 5)];
    expect(layout(list)).toEqual(["a", "  b", "    c", "  d", "    e"]);
    const a = buildCheckpointTree(list)[0];
    expect(a.childCount).toBe(2);
  });

  it("sorts roots and siblings by creation time, ties by id", () => {
    const list = [cp("z", null, 5), cp("y", null, 1), cp("k2", "y", 9), cp("k1", "y", 7), cp("b", null, 5)];
    expect(layout(list)).toEqual(["y", "  k1", "  k2", "b", "z"]);
  });

  it("marks the current checkpoint and the path leading to it", () => {
    const list = [cp("a", null, 1), cp("b", "a", 2), cp("c", "b", 3, { current: true }), cp("d", "a", 4)];
    const rows = buildCheckpointTree(list);
    const by = new Map(rows.map((r) => [r.info.id, r]));
    expect(rows.filter((r) => r.current).map((r) => r.info.id)).toEqual(["c"]);
    expect(by.get("a")?.onCurrentPath).toBe(true);
    expect(by.get("b")?.onCurrentPath).toBe(true);
    expect(by.get("c")?.onCurrentPath).toBe(false);
    expect(by.get("d")?.onCurrentPath).toBe(false);
  });

  it("turns checkpoints whose parent is gone into roots instead of hiding them", () => {
    expect(layout([cp("b", "deleted", 2), cp("c", "b", 3), cp("a", null, 1)])).toEqual(["a", "b", "  c"]);
  });

  it("shows every checkpoint exactly once even with a parent cycle or a self-parent", () => {
    const list = [cp("x", "y", 1), cp("y", "x", 2), cp("s", "s", 3), cp("r", null, 4)];
    const ids = buildCheckpointTree(list).map((r) => r.info.id);
    expect([...ids].sort()).toEqual(["r", "s", "x", "y"]);
  });
});
