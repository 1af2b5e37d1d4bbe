// The published first-visit state is used only with exactly the guest build and v86 it was made from.
import { describe, expect, it } from "vitest";
import { publishedMismatch, publishedStateUrl, PUBLISHED_SCHEMA, type PublishedState } from "../../../src/protocol/published-state";

const state: PublishedState = {
  schema: PUBLISHED_SCHEMA,
  key: "k",
  guestImageId: "a".repeat(64),
  v86Version: "0.5.462+g5f9a90f",
  lazyWasmSha256: "b".repeat(64),
  checkpointId: "published-x",
  fragment: "share=x",
  bytes: 1,
  packBytes: 1,
  workingSetPages: 1,
  bootMs: 1,
};
const running = { guestImageId: state.guestImageId, v86Version: state.v86Version, lazyWasmSha256: state.lazyWasmSha256 };

describe("publishedMismatch", () => {
  it("accepts the build it was made from", () => {
    expect(publishedMismatch(state, running)).toBeUndefined();
  });
  it("names what differs", () => {
    expect(publishedMismatch(state, { ...running, guestImageId: "c".repeat(64) })).toMatch(/guest build aaaaaaaaaaaa, this app serves cccccccccccc/);
    expect(publishedMismatch(state, { ...running, v86Version: "0.5.500" })).toMatch(/v86 0.5.462\+g5f9a90f, this app runs 0.5.500/);
    expect(publishedMismatch(state, { ...running, lazyWasmSha256: "d".repeat(64) })).toMatch(/another build of v86's wasm/);
    expect(publishedMismatch({ ...state, schema: PUBLISHED_SCHEMA + 1 }, running)).toMatch(/format/);
  });
});

describe("publishedStateUrl", () => {
  it("is the state folder beside the guest's guest.json", () => {
    expect(publishedStateUrl("/guest/guest.json", "http://h/").href).toBe("http://h/guest/state/");
    expect(publishedStateUrl("/guest/debian/guest.json", "http://h/").href).toBe("http://h/guest/debian/state/");
  });
});
