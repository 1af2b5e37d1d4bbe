// A reload finds its session save (CatalogJobs.newest) while the emulator worker builds the machine,
// and the checkpoint-I/O worker reads its device state ahead for the loadLazy that follows.
import { describe, expect, it } from "vitest";
import { captureCheckpoint } from "../../../src/checkpoint/capture";
import { newestCheckpoint } from "../../../src/checkpoint-io/catalog";
import { loadJobs } from "../../../src/checkpoint-io/load";
import { BUILT_IN_MACHINES } from "../../../src/protocol/checkpoint-io";
import { machineKey } from "../../../src/protocol/checkpoint-data";
import { MACHINE, captureInput, makeDeviceState, makeRam, openTestStore } from "./fixtures";

const OWN = { ...MACHINE, guestImageId: `own:${"d".repeat(64)}`, drives: [{ kind: "hda" as const, imageId: `sha256:${"e".repeat(64)}` }] };
const OTHER_BUILD = { ...MACHINE, guestImageId: "test-guest-2" };

describe("newestCheckpoint", () => {
  it("finds the newest checkpoint with the label of the machine asked for, and reads its device state ahead", async () => {
    const store = await openTestStore();
    const ram = makeRam(3);
    const at = (n: number) => 1_700_000_000_000 + n;
    await captureCheckpoint(store, captureInput("old", ram, { label: "autosave", created: at(1) }));
    await captureCheckpoint(store, captureInput("built-in", ram, { label: "autosave", created: at(2), machine: OTHER_BUILD, deviceState: makeDeviceState(7) }));
    await captureCheckpoint(store, captureInput("own", ram, { label: "autosave", created: at(3), machine: OWN }));
    await captureCheckpoint(store, captureInput("golden", ram, { label: "golden", created: at(4) }));

    const builtIn = await newestCheckpoint(store, "autosave", BUILT_IN_MACHINES);
    expect(builtIn?.id).toBe("built-in");
    expect(builtIn?.machineKey).toBe(machineKey(OTHER_BUILD));
    // Taken from the read-ahead: this store is not the worker's own, which knows no such checkpoint.
    const loaded = await loadJobs.loadLazy("built-in", OTHER_BUILD);
    expect(loaded.manifest.id).toBe("built-in");
    expect(new Uint8Array(loaded.deviceState)).toEqual(new Uint8Array(makeDeviceState(7)));

    expect((await newestCheckpoint(store, "autosave", machineKey(MACHINE)))?.id).toBe("old");
    expect((await newestCheckpoint(store, "autosave", machineKey(OWN)))?.id).toBe("own");
    expect(await newestCheckpoint(store, "autosave", "no-such-machine")).toBeUndefined();
    expect(await newestCheckpoint(store, "nothing", BUILT_IN_MACHINES)).toBeUndefined();
  });

  it("still finds a save whose device state cannot be read (its restore reads it again and says why)", async () => {
    const store = await openTestStore();
    const m = await captureCheckpoint(store, captureInput("damaged", makeRam(4), { label: "autosave" }));
    const hash = m.deviceState.chunks.find((h): h is string => !!h)!;
    const bytes = new Uint8Array((await store.db.get("chunks", hash)) as ArrayBuffer);
    bytes[bytes.length >> 1] ^= 0xff;
    await store.db.put("chunks", bytes.buffer, hash);
    const found = await newestCheckpoint(store, "autosave", BUILT_IN_MACHINES);
    expect(found?.id).toBe("damaged");
  });
});
