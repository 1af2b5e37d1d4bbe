import { createHash } from "node:crypto";

/** Thrown from inside the body iterable so the store discards what it wrote so far. */
export class BodyRefused extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Passes the body through while hashing and counting it. Throws BodyRefused when the body
 * outgrows maxBytes (as soon as that happens, not at the end) or, after the last chunk, when
 * its sha256 differs from expectedHex; the store then never commits the object.
 */
export async function* verifiedBody(
  source: AsyncIterable<Uint8Array>,
  expectedHex: string,
  maxBytes: number,
): AsyncGenerator<Uint8Array> {
  const hash = createHash("sha256");
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new BodyRefused(413, `body exceeds ${maxBytes} bytes`);
    hash.update(chunk);
    yield chunk;
  }
  const actual = hash.digest("hex");
  if (actual !== expectedHex) {
    throw new BodyRefused(400, `body sha256 is ${actual}, not the name ${expectedHex}`);
  }
}
