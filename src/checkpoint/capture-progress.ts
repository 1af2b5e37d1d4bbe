/** One growing progress figure for a checkpoint write, from the capture pipeline's phases. */
import type { CaptureProgress } from "../protocol/checkpoint-data";

/** Where each phase starts and ends on one 0..1000 scale (compressing and storing is the long part). */
const PHASE_SPAN: Record<CaptureProgress["phase"], readonly [number, number]> = {
  hash: [0, 50],
  compress: [50, 950],
  manifest: [950, 990],
  done: [1000, 1000],
};

/**
 * The phases' own counters as one figure out of 1000 that only grows: each phase restarts at 0
 * of its own total, which a progress bar would show as going backwards.
 */
export function overallCaptureProgress(p: CaptureProgress): { done: number; total: number } {
  const [from, to] = PHASE_SPAN[p.phase];
  const part = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  return { done: Math.round(from + (to - from) * part), total: 1000 };
}
