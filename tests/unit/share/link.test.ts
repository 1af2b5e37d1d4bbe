import { describe, expect, it } from "vitest";
import { ShareError } from "../../../src/share/errors";
import { buildShareLink, parseShareLink, shareFragment, type ShareLinkResult } from "../../../src/share/link";
import { mulberry32, mutateString, randomString } from "./prng";

const rng0 = mulberry32(42);
const MANIFEST = "3f".repeat(32);
const KEY = rng0.bytes(32);
const APP = "https://snap86.example/app/?vm=dos";
const VALID = buildShareLink(APP, { manifest: MANIFEST, key: KEY });
const fragmentOf = (input: string): string => input.slice(input.indexOf("#") + 1);

function expectTypedFailure(result: ShareLinkResult, label: string): void {
  if (result.ok) throw new Error(`accepted ${JSON.stringify(label)}`);
  expect(result.error).toBeInstanceOf(ShareError);
  expect(["link-malformed", "link-key-invalid"]).toContain(result.error.code);
}

describe("share links", () => {
  it("builds <app>#share=<manifest>.<key> and parses it back", () => {
    expect(VALID).toBe(`${APP}#share=${MANIFEST}.${Buffer.from(KEY).toString("base64url")}`);
    const parsed = parseShareLink(VALID);
    expect(parsed.ok && parsed.link.manifest).toBe(MANIFEST);
    expect(parsed.ok && parsed.link.key).toEqual(KEY);
  });

  it("replaces an existing fragment and accepts a bare hash", () => {
    const link = buildShareLink(`${APP}#old`, { manifest: MANIFEST, key: KEY });
    expect(link.match(/#/g)).toHaveLength(1);
    expect(parseShareLink(`#${fragmentOf(link)}`).ok).toBe(true);
  });

  it("the builder refuses bad parts", () => {
    expect(() => buildShareLink(APP, { manifest: "AB".repeat(32), key: KEY })).toThrow(RangeError);
    expect(() => buildShareLink(APP, { manifest: MANIFEST, key: new Uint8Array(16) })).toThrow(RangeError);
  });

  const key = Buffer.from(KEY).toString("base64url");
  it.each([
    ["no fragment", APP],
    ["other fragment", `${APP}#view=1`],
    ["no dot", `#share=${MANIFEST}${key}`],
    ["uppercase manifest", `#share=${MANIFEST.toUpperCase()}.${key}`],
    ["short manifest", `#share=${MANIFEST.slice(2)}.${key}`],
    ["extra parameter", `#share=${MANIFEST}.${key}&x=1`],
    ["parameter first", `#x=1&share=${MANIFEST}.${key}`],
    ["second fragment", `#share=${MANIFEST}.${key}#again`],
    ["whitespace", `#share=${MANIFEST}.${key} `],
    ["not a string", 42],
  ])("%s is malformed", (_label, input) => {
    const result = parseShareLink(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe("link-malformed");
      expect(result.error.message).toBe("This share link is malformed");
    }
  });

  it.each([
    ["short key", `#share=${MANIFEST}.${key.slice(1)}`],
    ["long key", `#share=${MANIFEST}.${key}A`],
    ["standard base64", `#share=${MANIFEST}.${key.slice(0, 41)}+/`],
    ["padded key", `#share=${MANIFEST}.${key}=`.replace(/=$/, "%3D")],
    ["non-canonical last char", `#share=${MANIFEST}.${key.slice(0, 42)}${key.endsWith("B") ? "C" : "B"}`],
    ["empty key", `#share=${MANIFEST}.`],
  ])("%s is an invalid key", (_label, input) => {
    const result = parseShareLink(input);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe("link-key-invalid");
      expect(result.error.message).toBe("This share link's key is invalid");
    }
  });
});

describe("share link parser fuzz", () => {
  it("never throws on 2000 random strings and accepts none of them", () => {
    const rng = mulberry32(1001);
    for (let i = 0; i < 2000; i++) {
      const input = (rng.next() < 0.5 ? "#share=" : "") + randomString(rng, 140);
      expectTypedFailure(parseShareLink(input), input);
    }
  });

  it("on 3000 mutated links: only typed errors, and anything accepted is canonical", () => {
    const rng = mulberry32(2002);
    let accepted = 0;
    let differentAccepted = 0;
    for (let i = 0; i < 3000; i++) {
      let input = VALID;
      const rounds = 1 + rng.int(3);
      for (let r = 0; r < rounds; r++) input = mutateString(rng, input);
      let result: ShareLinkResult;
      try {
        result = parseShareLink(input);
      } catch (error) {
        throw new Error(`threw on ${JSON.stringify(input)}: ${String(error)}`);
      }
      if (!result.ok) {
        expectTypedFailure(result, input);
        continue;
      }
      accepted++;
      // Acceptance is only ever of the exact canonical spelling of what was parsed: no
      // normalisation that could make two different inputs mean the same link or vice versa.
      // buildShareLink re-validates the parts, so a lenient parse cannot pass by echoing input.
      expect(fragmentOf(buildShareLink("", result.link))).toBe(fragmentOf(input));
      expect(shareFragment(result.link)).toBe(fragmentOf(input));
      if (fragmentOf(input) !== fragmentOf(VALID)) differentAccepted++;
    }
    // Mutations confined to the app URL part keep the link; a hex/base64 digit swap yields a
    // different, well-formed link, which the content address and GCM reject downstream
    // (covered end to end in share-session.test.ts). Both must occur for this test to mean much.
    expect(accepted).toBeGreaterThan(0);
    expect(differentAccepted).toBeGreaterThan(0);
  });
});
