import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AutosaveTimer, CONTINUOUS_SAVE_SECONDS } from "../../../src/emulator/autosave-timer";
import { deferred } from "../../support/deferred";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function timer(save: () => Promise<unknown>, automaticSeconds = () => CONTINUOUS_SAVE_SECONDS) {
  const failed = vi.fn<(message: string) => void>();
  return { timer: new AutosaveTimer({ save, automaticSeconds, failed }), failed };
}

describe("AutosaveTimer", () => {
  it("saves every interval once started, restarts from now, stops, and is off at 0", async () => {
    const save = vi.fn(() => Promise.resolve());
    const { timer: t } = timer(save);
    t.start();
    await vi.advanceTimersByTimeAsync(CONTINUOUS_SAVE_SECONDS * 1000 * 2);
    expect(save).toHaveBeenCalledTimes(2);
    t.seconds = 5;
    t.start();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(save).toHaveBeenCalledTimes(5);
    t.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(save).toHaveBeenCalledTimes(5);
    t.seconds = 0;
    t.start();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(save).toHaveBeenCalledTimes(5);
    expect(() => (t.seconds = -1)).toThrow(/autosave interval/);
    expect(() => (t.seconds = Number.NaN)).toThrow(/autosave interval/);
  });

  it("uses the automatic interval until one is set", async () => {
    let automatic = 30;
    const save = vi.fn(() => Promise.resolve());
    const { timer: t } = timer(save, () => automatic);
    t.start();
    await vi.advanceTimersByTimeAsync(29_000);
    expect(save).not.toHaveBeenCalled();
    automatic = 1;
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(3000);
    expect(save).toHaveBeenCalledTimes(4); // at 30 s, then every second
  });

  it("never runs two saves at once; after two slow saves in a row leaves the guest four times as long before the next, after one slow save not", async () => {
    const slow = [deferred(), deferred(), deferred()];
    const save = vi.fn(() => (save.mock.calls.length <= 3 ? slow[save.mock.calls.length - 1].promise : Promise.resolve()));
    const { timer: t } = timer(save);
    t.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(save).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(3000);
    expect(save).toHaveBeenCalledTimes(1);
    slow[0].resolve(); // it took 3 s, the only slow one so far: the next comes at once
    await vi.advanceTimersByTimeAsync(0);
    expect(save).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(3000);
    slow[1].resolve(); // 3 s again: the next comes 12 s later, not at once
    await vi.advanceTimersByTimeAsync(11_000);
    expect(save).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(save).toHaveBeenCalledTimes(3);
    slow[2].resolve(); // a quick save
    // Quick saves again: back to one a second.
    await vi.advanceTimersByTimeAsync(3000);
    expect(save).toHaveBeenCalledTimes(6);
  });

  it("says a failure once until a save succeeds, and keeps saving", async () => {
    let fail = true;
    const save = vi.fn(() => (fail ? Promise.reject(new Error("storage full")) : Promise.resolve()));
    const { timer: t, failed } = timer(save);
    t.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(save).toHaveBeenCalledTimes(5);
    expect(failed.mock.calls).toEqual([["storage full"]]);
    fail = false;
    await vi.advanceTimersByTimeAsync(1000);
    fail = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(failed).toHaveBeenCalledTimes(2);
  });
});
