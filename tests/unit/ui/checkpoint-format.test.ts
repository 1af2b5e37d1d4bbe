import { describe, expect, it } from "vitest";
import type { EmulatorEvent } from "../../../src/protocol";
import {
  errorMessage,
  exportFileName,
  formatAge,
  formatCheckpointSize,
  IDLE_STATUS,
  isSnap86File,
  nextCheckpointStatus,
  displayLabel,
  nextDefaultLabel,
  resultStatus,
  type CheckpointStatus,
} from "../../../src/page/ui/checkpoint-format";

type CheckpointEvent = Extract<EmulatorEvent, { type: "checkpoint" }>;

describe("formatAge", () => {
  const now = 1_700_000_000_000;
  it.each([
    [0, "just now"],
    [9_000, "just now"],
    [45_000, "45 s ago"],
    [120_000, "2 min ago"],
    [59 * 60_000, "59 min ago"],
    [3 * 3_600_000, "3 h ago"],
    [30 * 3_600_000, "yesterday"],
    [5 * 86_400_000, "5 days ago"],
  ])("%i ms ago reads %s", (ago, text) => {
    expect(formatAge(now - ago, now)).toBe(text);
  });
  it("does not show negative ages for clocks slightly ahead", () => {
    expect(formatAge(now + 5_000, now)).toBe("just now");
  });
});

describe("formatCheckpointSize", () => {
  it("shows stored, own and shared bytes with the disk panel's units", () => {
    expect(formatCheckpointSize({ storedBytes: 3 * 1048576, ownBytes: 512 * 1024, sharedBytes: 2.5 * 1048576 })).toBe(
      "3.0 MiB · 512.0 KiB own · 2.5 MiB shared",
    );
  });
});

describe("nextDefaultLabel", () => {
  const manual = (label: string) => ({ label, autosave: false });
  it("starts at Checkpoint 1", () => expect(nextDefaultLabel([])).toBe("Checkpoint 1"));
  it("goes one past the highest number, so a deleted one's label is not reused", () => {
    expect(nextDefaultLabel([manual("Checkpoint 1"), manual("Checkpoint 4")])).toBe("Checkpoint 5");
  });
  it("counts renamed checkpoints and ignores autosaves", () => {
    expect(nextDefaultLabel([manual("before upgrade"), manual("kernel built"), { label: "Checkpoint 9", autosave: true }])).toBe(
      "Checkpoint 3",
    );
  });
});

describe("exportFileName", () => {
  it("keeps ordinary labels", () => expect(exportFileName("Checkpoint 3")).toBe("Checkpoint 3.snap86"));
  it("replaces path separators, reserved and control characters", () => {
    expect(exportFileName('a/b\\c:d*e?"f<g>h|i\u0001j')).toBe("a_b_c_d_e_f_g_h_i_j.snap86");
  });
  it("falls back for labels with nothing usable", () => {
    expect(exportFileName("  ..  ")).toBe("checkpoint.snap86");
    expect(exportFileName("")).toBe("checkpoint.snap86");
  });
});

describe("isSnap86File", () => {
  it("accepts .snap86 in any case and nothing else", () => {
    expect(isSnap86File("boot.snap86")).toBe(true);
    expect(isSnap86File("BOOT.SNAP86")).toBe(true);
    expect(isSnap86File("boot.snap86.zip")).toBe(false);
    expect(isSnap86File("snap86")).toBe(false);
  });
});

describe("errorMessage", () => {
  it("takes the message of errors and error-like objects", () => {
    expect(errorMessage(new Error("not a snap86 file"))).toBe("not a snap86 file");
    expect(errorMessage({ message: "damaged chunk" })).toBe("damaged chunk");
    expect(errorMessage("plain")).toBe("plain");
  });
});

describe("nextCheckpointStatus", () => {
  const fold = (events: CheckpointEvent[], start: CheckpointStatus = IDLE_STATUS) => {
    const seen: CheckpointStatus[] = [];
    let s = start;
    for (const e of events) seen.push((s = nextCheckpointStatus(s, e)));
    return seen;
  };
  const ev = (phase: CheckpointEvent["phase"], extra: Partial<CheckpointEvent> = {}): CheckpointEvent => ({
    type: "checkpoint",
    phase,
    id: "c1",
    ...extra,
  });

  it("is busy from pause until done, and carries the measured pause to the end", () => {
    const seen = fold([ev("paused"), ev("resumed", { pauseMs: 14.2 }), ev("writing", { done: 3, total: 12 }), ev("done")]);
    expect(seen.map((s) => s.busy)).toEqual([true, true, true, false]);
    expect(seen[1].text).toContain("paused 14 ms");
    expect(seen[2]).toMatchObject({ done: 3, total: 12 });
    expect(seen[2].text).toContain("25%");
    expect(seen[2].text).toContain("paused 14 ms");
    expect(seen[3].text).toBe("Saved · paused 14 ms");
  });

  it("only moves forward: late progress neither lowers the percentage nor reopens a finished checkpoint", () => {
    const seen = fold([
      ev("resumed", { pauseMs: 27 }),
      ev("writing", { done: 500, total: 1000 }),
      ev("writing", { done: 100, total: 1000 }),
      ev("resumed"),
      ev("writing", { done: 990, total: 1000 }),
      ev("done"),
      ev("writing", { done: 0, total: 1 }),
    ]);
    const percents = seen.map((s) => (s.total ? (s.done ?? 0) / s.total : -1));
    for (let i = 1; i < percents.length - 2; i++) expect(percents[i]).toBeGreaterThanOrEqual(percents[i - 1]);
    expect(seen[2].text).toContain("50%");
    expect(seen.at(-1)).toMatchObject({ busy: false, text: "Saved · paused 27 ms" });
  });

  it("names autosaves by their time, others by their label", () => {
    const created = new Date(2026, 10, 30, 21, 5, 9).getTime();
    expect(displayLabel({ label: "autosave", autosave: true, created })).toMatch(/^Session at .*05.*09/);
    expect(displayLabel({ label: "mine", autosave: false, created })).toBe("mine");
  });

  it("shows sub-10 ms pauses with a decimal", () => {
    expect(fold([ev("resumed", { pauseMs: 3.14 }), ev("done")])[1].text).toBe("Saved · paused 3.1 ms");
  });

  it("does not carry one checkpoint's pause over to the next", () => {
    const seen = fold([ev("resumed", { pauseMs: 20 }), ev("done"), ev("done", { id: "c2" })]);
    expect(seen[2].text).toBe("Saved");
  });

  it("reports failures with the worker's message", () => {
    const s = fold([ev("paused"), ev("failed", { error: { code: "internal", name: "Error", message: "QuotaExceededError", detail: {} } })])[1];
    expect(s).toMatchObject({ busy: false, failed: true });
    expect(s.text).toBe("Checkpoint failed: QuotaExceededError");
  });

  it("summarises a finished checkpoint() call with its own measurements", () => {
    const s = resultStatus("Checkpoint 2", { id: "c9", pauseMs: 14, persistMs: 230.4, storedBytes: 5_000_000, newBytes: 2048, chunksWritten: 3, peakExtraBytes: 0 });
    expect(s.busy).toBe(false);
    expect(s.text).toBe("Saved “Checkpoint 2” · paused 14 ms · stored in 230 ms · 2.0 KiB new");
  });
});
