// A reload prefetches what its boot needs while it lists its sessions: the boot that follows takes
// those requests (once); a later boot fetches again (a new guest build may have been deployed).
import { afterEach, describe, expect, it, vi } from "vitest";
import { BootInputsAhead } from "../../../src/emulator/boot-inputs";
import { DEFAULT_CONFIG } from "../../../src/protocol/machine-config";

afterEach(() => vi.unstubAllGlobals());

/** fetch that fails every request (as offline) and records what was asked. */
function offlineFetch(): string[] {
  const fetched: string[] = [];
  vi.stubGlobal("fetch", async (url: string) => {
    fetched.push(String(url));
    throw new TypeError("offline in this test");
  });
  return fetched;
}

describe("BootInputsAhead", () => {
  it("hands a prefetch to the next boot of that guest only, once", async () => {
    const fetched = offlineFetch();
    const ahead = new BootInputsAhead();
    ahead.prefetch({ ...DEFAULT_CONFIG, guest: "busybox" });
    const asked = fetched.length;
    expect(asked).toBeGreaterThan(0); // the requests went out at the prefetch, not at the boot
    ahead.prefetch({ ...DEFAULT_CONFIG, guest: "busybox" });
    expect(fetched.length).toBe(asked); // one prefetch per guest

    const first = ahead.take({ ...DEFAULT_CONFIG, guest: "busybox" }, () => undefined);
    expect(fetched.length).toBe(asked); // taken, not fetched again
    await expect(first.guest).rejects.toThrow(/offline/);

    ahead.take({ ...DEFAULT_CONFIG, guest: "busybox" }, () => undefined);
    expect(fetched.length).toBeGreaterThan(asked); // used once: the next boot fetches anew
    // Another guest's boot never takes this guest's prefetch.
    ahead.prefetch({ ...DEFAULT_CONFIG, guest: "busybox" });
    const before = fetched.length;
    ahead.take({ ...DEFAULT_CONFIG, guest: "debian" }, () => undefined);
    expect(fetched.length).toBeGreaterThan(before);
  });

  it("does not hand a stale prefetch to a boot long after the page loaded", async () => {
    vi.useFakeTimers();
    try {
      const fetched = offlineFetch();
      const ahead = new BootInputsAhead();
      ahead.prefetch({ ...DEFAULT_CONFIG, guest: "busybox" });
      const asked = fetched.length;
      vi.advanceTimersByTime(60_000);
      ahead.take({ ...DEFAULT_CONFIG, guest: "busybox" }, () => undefined);
      expect(fetched.length).toBeGreaterThan(asked);
    } finally {
      vi.useRealTimers();
    }
  });
});
