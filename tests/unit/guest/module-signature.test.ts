import { describe, expect, it } from "vitest";
import { MODULE_SIG_MAGIC, stripModuleSignature } from "../../../scripts/guest/module-signature.mjs";

/** A module body followed by a fake PKCS#7 blob, struct module_signature and the trailer. */
function signed(body: Uint8Array, sigLen: number): Uint8Array {
  const sig = new Uint8Array(sigLen).fill(0xaa);
  const struct = new Uint8Array(12); // algo, hash, id_type, signer_len, key_id_len, pad[3], be32 sig_len
  struct[2] = 2; // PKEY_ID_PKCS7
  new DataView(struct.buffer).setUint32(8, sigLen, false);
  const magic = new TextEncoder().encode(MODULE_SIG_MAGIC);
  const out = new Uint8Array(body.length + sigLen + 12 + magic.length);
  out.set(body, 0);
  out.set(sig, body.length);
  out.set(struct, body.length + sigLen);
  out.set(magic, body.length + sigLen + 12);
  return out;
}

describe("stripModuleSignature", () => {
  const body = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);

  it("cuts the signature, its struct and the trailer, leaving the module bytes", () => {
    const { data, stripped } = stripModuleSignature(signed(body, 0x2a9));
    expect(stripped).toBe(true);
    expect(Buffer.from(data).equals(Buffer.from(body))).toBe(true);
  });

  it("works on a Buffer view into a larger pool", () => {
    const pool = Buffer.alloc(5000, 0x55);
    const s = signed(body, 300);
    pool.set(s, 100);
    const view = pool.subarray(100, 100 + s.length);
    const { data, stripped } = stripModuleSignature(view);
    expect(stripped).toBe(true);
    expect(data.length).toBe(body.length);
    expect(Buffer.from(data).equals(Buffer.from(body))).toBe(true);
  });

  it("leaves an unsigned module untouched", () => {
    const { data, stripped } = stripModuleSignature(body);
    expect(stripped).toBe(false);
    expect(data).toBe(body);
  });

  it("refuses a signature length larger than the file", () => {
    const bad = signed(body, 10);
    new DataView(bad.buffer).setUint32(bad.length - MODULE_SIG_MAGIC.length - 4, 1_000_000, false);
    expect(() => stripModuleSignature(bad)).toThrow(/larger than the module/);
  });
});
