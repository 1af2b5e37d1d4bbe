/**
 * Plaintext layout of a shared object: the app shares chunks as they are stored (compressed),
 * so the object says how to decode them. Layout (little-endian):
 *   u8 codec id, 3 zero bytes, u32 decoded length, encoded bytes
 * The frame is inside the encryption, so only key holders can see or forge it; the opening side
 * still decodes and checks the content hash before using anything.
 */
export const FRAME_HEADER_BYTES = 8;

export interface Frame {
  readonly codecId: number;
  readonly rawLength: number;
  readonly encoded: Uint8Array;
}

export function encodeFrame(frame: Frame): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(frame.codecId) || frame.codecId < 0 || frame.codecId > 255) throw new RangeError("codec id must be a byte");
  if (!Number.isSafeInteger(frame.rawLength) || frame.rawLength < 0 || frame.rawLength > 0xffffffff) throw new RangeError("bad decoded length");
  const out = new Uint8Array(FRAME_HEADER_BYTES + frame.encoded.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, frame.codecId);
  dv.setUint32(4, frame.rawLength, true);
  out.set(frame.encoded, FRAME_HEADER_BYTES);
  return out;
}

/** Null for anything that is not a well-formed frame. */
export function decodeFrame(bytes: Uint8Array): Frame | null {
  if (bytes.byteLength < FRAME_HEADER_BYTES) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint8(1) | dv.getUint8(2) | dv.getUint8(3)) return null;
  return { codecId: dv.getUint8(0), rawLength: dv.getUint32(4, true), encoded: bytes.subarray(FRAME_HEADER_BYTES) };
}
