import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import { ShareKeyStore } from "../../../src/share/key-store";
import { decodeFrame, encodeFrame, FRAME_HEADER_BYTES } from "../../../src/share/object-frame";
import { appUrlOf, formatShareProgress } from "../../../src/page/ui/share-dialog";

describe("shared object frame", () => {
  it("round-trips codec, decoded length and bytes", () => {
    const encoded = new Uint8Array([5, 6, 7]);
    const bytes = encodeFrame({ codecId: 1, rawLength: 65536, encoded });
    expect(bytes.byteLength).toBe(FRAME_HEADER_BYTES + 3);
    const back = decodeFrame(bytes);
    expect(back && { ...back, encoded: [...back.encoded] }).toEqual({ codecId: 1, rawLength: 65536, encoded: [5, 6, 7] });
  });

  it("refuses short frames and non-zero padding", () => {
    expect(decodeFrame(new Uint8Array(FRAME_HEADER_BYTES - 1))).toBeNull();
    const bytes = encodeFrame({ codecId: 0, rawLength: 1, encoded: new Uint8Array([9]) });
    bytes[2] = 1;
    expect(decodeFrame(bytes)).toBeNull();
    expect(() => encodeFrame({ codecId: 256, rawLength: 1, encoded: new Uint8Array() })).toThrow(RangeError);
  });
});

describe("share key store", () => {
  it("keeps one 32-byte key per checkpoint and ignores malformed records", async () => {
    const keys = await ShareKeyStore.open(`keys-${Math.random()}`);
    expect(await keys.get("a")).toBeUndefined();
    const key = crypto.getRandomValues(new Uint8Array(32));
    await keys.put("a", key);
    expect([...((await keys.get("a")) ?? [])]).toEqual([...key]);
    await keys.put("b", new Uint8Array(5));
    expect(await keys.get("b")).toBeUndefined();
    await keys.delete("a");
    expect(await keys.get("a")).toBeUndefined();
  });
});

describe("share UI text", () => {
  it("formats progress in MiB and strips query and fragment from the app URL", () => {
    expect(formatShareProgress("download", 3.2 * 1048576, 12 * 1048576)).toBe("Opening shared VM: 3.2 of 12.0 MiB");
    expect(formatShareProgress("upload", 2 * 1048576, 1048576)).toBe("Uploading checkpoint: 2.0 of 2.0 MiB");
    expect(appUrlOf({ origin: "http://h:1", pathname: "/app/" })).toBe("http://h:1/app/");
  });
});
