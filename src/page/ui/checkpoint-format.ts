/**
 * The words and numbers of the checkpoint panel: relative times, sizes, default labels, export
 * file names and the progress line built from the worker's checkpoint events. DOM-free so it is
 * unit tested without a browser.
 */
import type { CheckpointInfo, CheckpointResult, EmulatorEvent } from "../../protocol";
import { formatBytes } from "./disk-panel";
import { userMessage } from "./error-messages";

export function formatAge(created: number, now: number): string {
  const s = Math.max(0, Math.round((now - created) / 1000));
  if (s < 10) return "just now";
  if (s < 60) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.floor(h / 24);
  return d === 1 ? "yesterday" : `${d} days ago`;
}

export function formatAbsolute(created: number): string {
  return new Date(created).toLocaleString();
}

/** Stored size first; own vs shared tells what deleting this checkpoint would actually free. */
export function formatCheckpointSize(c: Pick<CheckpointInfo, "storedBytes" | "ownBytes" | "sharedBytes">): string {
  return `${formatBytes(c.storedBytes)} · ${formatBytes(c.ownBytes)} own · ${formatBytes(c.sharedBytes)} shared`;
}

/** "Checkpoint N" one past the highest number in use, so deleting one never reuses a label. */
export function nextDefaultLabel(list: readonly Pick<CheckpointInfo, "label" | "autosave">[]): string {
  const manual = list.filter((c) => !c.autosave);
  let highest = 0;
  for (const c of manual) {
    const m = /^Checkpoint (\d+)$/.exec(c.label.trim());
    if (m) highest = Math.max(highest, Number(m[1]));
  }
  return `Checkpoint ${Math.max(highest, manual.length) + 1}`;
}

/**
 * What a row is called: an autosave by the time it was taken (every autosave has the same stored
 * label, which a tag beside the name already says), any other checkpoint by its label.
 */
export function displayLabel(c: Pick<CheckpointInfo, "label" | "autosave" | "created">): string {
  return c.autosave ? `Session at ${new Date(c.created).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })}` : c.label;
}

/** A file name every OS accepts: no path separators, reserved or control characters. */
export function exportFileName(label: string): string {
  const base = label.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, "_").replace(/^[\s.]+|[\s.]+$/g, "").slice(0, 100);
  return `${base || "checkpoint"}.snap86`;
}

export function isSnap86File(name: string): boolean {
  return /\.snap86$/i.test(name);
}

/** What to show for a failure, chosen by its code (error-messages.ts); "Cancelled." when the user cancelled. */
export function errorMessage(e: unknown): string {
  return userMessage(e) ?? "Cancelled.";
}

export interface CheckpointStatus {
  /** A checkpoint is being taken or written. */
  busy: boolean;
  text: string;
  /** The checkpoint the events are about, so a measured pause is not carried to the next one. */
  id?: string;
  pauseMs?: number;
  /** Progress of the background write, when the worker reports it. */
  done?: number;
  total?: number;
  failed?: boolean;
  /** The last phase folded in, so a late event of an earlier phase is not shown. */
  phase?: CheckpointEvent["phase"];
}

export const IDLE_STATUS: CheckpointStatus = { busy: false, text: "" };

type CheckpointEvent = Extract<EmulatorEvent, { type: "checkpoint" }>;

export function formatPause(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/**
 * Folds one worker event into the status line; the measured pause survives the later phases.
 * Only forward: progress arrives on its own message port and can overtake (or trail) the phase
 * events, so a checkpoint that ended stays ended and its percentage never goes down.
 */
export function nextCheckpointStatus(prev: CheckpointStatus, event: CheckpointEvent): CheckpointStatus {
  const same = prev.id === event.id;
  if (same && !prev.busy && prev.text) return prev;
  if (same && event.phase !== "done" && event.phase !== "failed" && rank(event.phase) < rank(prev.phase)) return prev;
  const next = foldCheckpointEvent(prev, event);
  if (same && prev.done !== undefined && prev.total && next.busy) {
    const before = prev.done / prev.total;
    if (next.total === undefined || next.done === undefined || next.done / next.total < before) return { ...next, done: prev.done, total: prev.total, text: prev.text };
  }
  return next;
}

const PHASE_ORDER: CheckpointEvent["phase"][] = ["paused", "resumed", "writing", "done", "failed"];
const rank = (phase: CheckpointEvent["phase"] | undefined) => (phase === undefined ? -1 : PHASE_ORDER.indexOf(phase));

function foldCheckpointEvent(prev: CheckpointStatus, event: CheckpointEvent): CheckpointStatus {
  const pauseMs = event.pauseMs ?? (prev.id === event.id ? prev.pauseMs : undefined);
  const pause = pauseMs === undefined ? "" : ` · paused ${formatPause(pauseMs)}`;
  const base = { id: event.id, pauseMs, phase: event.phase };
  switch (event.phase) {
    case "paused":
      return { ...base, busy: true, text: "Pausing the machine…" };
    case "resumed":
      return { ...base, busy: true, text: `Resumed, writing…${pause}` };
    case "writing": {
      const { done, total } = event;
      const percent = done !== undefined && total ? ` ${Math.min(100, Math.round((done / total) * 100))}%` : "";
      return { ...base, busy: true, text: `Writing${percent}…${pause}`, done, total };
    }
    case "done":
      return { ...base, busy: false, text: `Saved${pause}` };
    case "failed":
      return { ...base, busy: false, failed: true, text: `Checkpoint failed${event.error ? `: ${errorMessage(event.error)}` : ""}` };
  }
  return prev;
}

/** The summary after `checkpoint()` resolved: its own measurements beat whatever events said. */
export function resultStatus(label: string, r: CheckpointResult): CheckpointStatus {
  return {
    busy: false,
    id: r.id,
    pauseMs: r.pauseMs,
    text: `Saved “${label}” · paused ${formatPause(r.pauseMs)} · stored in ${Math.round(r.persistMs)} ms · ${formatBytes(r.newBytes)} new`,
  };
}
