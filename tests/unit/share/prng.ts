// Seeded PRNG for the fuzz tests: failures reproduce from the seed printed in the test name.
export interface Prng {
  next(): number;
  int(maxExclusive: number): number;
  pick<T>(items: readonly T[]): T;
  bytes(length: number): Uint8Array<ArrayBuffer>;
}

export function mulberry32(seed: number): Prng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (maxExclusive: number): number => Math.floor(next() * maxExclusive);
  return {
    next,
    int,
    pick: (items) => items[int(items.length)],
    bytes: (length) => Uint8Array.from({ length }, () => int(256)),
  };
}

/** One random structural mutation of a byte string (never the identity unless input is empty). */
export function mutateBytes(rng: Prng, input: Uint8Array): Uint8Array {
  const out = Array.from(input);
  switch (rng.int(6)) {
    case 0: // truncate
      return Uint8Array.from(out.slice(0, rng.int(out.length)));
    case 1: {
      // flip one bit
      if (out.length === 0) return Uint8Array.of(rng.int(256));
      const at = rng.int(out.length);
      out[at] ^= 1 << rng.int(8);
      return Uint8Array.from(out);
    }
    case 2: // insert a byte
      out.splice(rng.int(out.length + 1), 0, rng.int(256));
      return Uint8Array.from(out);
    case 3: // delete a byte
      if (out.length === 0) return Uint8Array.of(rng.int(256));
      out.splice(rng.int(out.length), 1);
      return Uint8Array.from(out);
    case 4: {
      // replace a byte with a different value
      if (out.length === 0) return Uint8Array.of(rng.int(256));
      const at = rng.int(out.length);
      out[at] = (out[at] + 1 + rng.int(255)) & 0xff;
      return Uint8Array.from(out);
    }
    default: // append garbage
      return Uint8Array.from([...out, ...rng.bytes(1 + rng.int(8))]);
  }
}

const LINK_ALPHABET = "0123456789abcdefABCDEF-_.=&#?%/+ :share";

/** One random mutation of a string, biased towards characters that look link-like. */
export function mutateString(rng: Prng, input: string): string {
  const chars = [...input];
  const randomChar = (): string =>
    rng.next() < 0.8 ? LINK_ALPHABET[rng.int(LINK_ALPHABET.length)] : String.fromCharCode(rng.int(0x3000));
  switch (rng.int(6)) {
    case 0:
      return chars.slice(0, rng.int(chars.length)).join("");
    case 1: {
      if (chars.length === 0) return randomChar();
      const at = rng.int(chars.length);
      chars[at] = String.fromCharCode(chars[at].charCodeAt(0) ^ (1 << rng.int(7)));
      return chars.join("");
    }
    case 2:
      chars.splice(rng.int(chars.length + 1), 0, randomChar());
      return chars.join("");
    case 3:
      if (chars.length === 0) return randomChar();
      chars.splice(rng.int(chars.length), 1);
      return chars.join("");
    case 4: {
      if (chars.length === 0) return randomChar();
      chars[rng.int(chars.length)] = randomChar();
      return chars.join("");
    }
    default:
      return input + randomChar() + (rng.next() < 0.5 ? "&x=1" : "");
  }
}

export function randomString(rng: Prng, maxLength: number): string {
  const length = rng.int(maxLength + 1);
  let out = "";
  for (let i = 0; i < length; i++) {
    out += rng.next() < 0.7 ? LINK_ALPHABET[rng.int(LINK_ALPHABET.length)] : String.fromCharCode(rng.int(0x10000));
  }
  return out;
}
