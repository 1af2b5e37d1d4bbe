import { describe, expect, it, vi } from "vitest";
import { AutosaveTimer, DEFAULT_AUTOSAVE_SECONDS } from "../../../src/emulator/autosave-timer";

describe("AutosaveTimer", () => {
  it("ticks every interval once started, restarts from now, stops, and is off at 0", () => {
    vi.useFakeTimers();
    try {
      const tick = vi.fn();
      const timer = new AutosaveTimer(tick);
      timer.start();
      vi.advanceTimersByTime(DEFAULT_AUTOSAVE_SECONDS * 1000 * 2);
      expect(tick).toHaveBeenCalledTimes(2);
      timer.seconds = 5;
      vi.advanceTimersByTime(5000);
      expect(tick).toHaveBeenCalledTimes(2); // takes effect at the next start
      timer.start();
      vi.advanceTimersByTime(15_000);
      expect(tick).toHaveBeenCalledTimes(5);
      timer.stop();
      vi.advanceTimersByTime(60_000);
      expect(tick).toHaveBeenCalledTimes(5);
      timer.seconds = 0;
      timer.start();
      vi.advanceTimersByTime(600_000);
      expect(tick).toHaveBeenCalledTimes(5);
      expect(() => (timer.seconds = -1)).toThrow(/autosave interval/);
      expect(() => (timer.seconds = Number.NaN)).toThrow(/autosave interval/);
    } finally {
      vi.useRealTimers();
    }
  });
});
