import type { ByteRange } from "./object-store.js";

export type RangeRequest = { kind: "none" } | { kind: "range"; range: ByteRange } | { kind: "unsatisfiable" };

/**
 * Parses a Range header for an object of `size` bytes. Only one "bytes" range is served;
 * anything else we cannot honour exactly (multiple ranges, bad syntax, start past the end) is
 * answered 416 rather than silently sent whole, since callers of this private API ask for
 * ranges on purpose and a full body would surprise them.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: "none" };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return { kind: "unsatisfiable" };
  const [, first, last] = match;
  if (first === "" && last === "") return { kind: "unsatisfiable" };
  if (first === "") {
    // Suffix range: the last N bytes.
    const length = Number(last);
    if (!Number.isSafeInteger(length) || length === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", range: { start: Math.max(0, size - length), end: size - 1 } };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start) || start >= size) return { kind: "unsatisfiable" };
  if (last === "") return { kind: "range", range: { start, end: size - 1 } };
  const end = Number(last);
  if (!Number.isSafeInteger(end) || end < start) return { kind: "unsatisfiable" };
  return { kind: "range", range: { start, end: Math.min(end, size - 1) } };
}
