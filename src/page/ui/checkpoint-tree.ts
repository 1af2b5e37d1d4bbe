/**
 * Turns the worker's flat checkpoint list into the rows the panel draws: a depth-first walk of
 * the parent → child tree, so a branch (restore an old checkpoint, then go on) shows indented
 * under the checkpoint it grew from. DOM-free so the layout can be unit tested.
 */
import type { CheckpointInfo } from "../../protocol";

export interface CheckpointRow {
  info: CheckpointInfo;
  /** 0 for roots; the panel indents by it. */
  depth: number;
  /** The running machine descends from this checkpoint. */
  current: boolean;
  /** Some checkpoint lies between this one and the current one (its ancestors are highlighted). */
  onCurrentPath: boolean;
  childCount: number;
}

const byCreated = (a: CheckpointInfo, b: CheckpointInfo) => a.created - b.created || a.id.localeCompare(b.id);

export function buildCheckpointTree(list: readonly CheckpointInfo[]): CheckpointRow[] {
  const byId = new Map(list.map((c) => [c.id, c]));
  const children = new Map<string | null, CheckpointInfo[]>();
  for (const c of list) {
    // A parent that was deleted (or not imported) must not hide its descendants: they become roots.
    const parent = c.parent !== null && c.parent !== c.id && byId.has(c.parent) ? c.parent : null;
    const siblings = children.get(parent);
    if (siblings) siblings.push(c);
    else children.set(parent, [c]);
  }
  for (const siblings of children.values()) siblings.sort(byCreated);

  const currentPath = ancestorsOfCurrent(list, byId);
  const rows: CheckpointRow[] = [];
  const visited = new Set<string>();
  const walk = (c: CheckpointInfo, depth: number) => {
    if (visited.has(c.id)) return;
    visited.add(c.id);
    const kids = children.get(c.id) ?? [];
    rows.push({ info: c, depth, current: c.current, onCurrentPath: currentPath.has(c.id), childCount: kids.length });
    for (const k of kids) walk(k, depth + 1);
  };
  for (const root of children.get(null) ?? []) walk(root, 0);
  // A parent cycle (corrupt or foreign data) has no root to start from; show its members flat
  // rather than losing them.
  for (const c of [...list].sort(byCreated)) walk(c, 0);
  return rows;
}

function ancestorsOfCurrent(list: readonly CheckpointInfo[], byId: Map<string, CheckpointInfo>): Set<string> {
  const path = new Set<string>();
  let c = list.find((x) => x.current);
  while (c?.parent && !path.has(c.parent)) {
    path.add(c.parent);
    c = byId.get(c.parent);
  }
  return path;
}
