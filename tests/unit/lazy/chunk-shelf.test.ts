// The shelf of decoded chunks the emulator takes in a fault without asking the loader: what it
// hands out is exactly what was put, never a chunk being rewritten (its seqlock), never one whose
// slot went to another chunk since.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createShelf, ShelfReader, ShelfWriter } from "../../../src/lazy/chunk-shelf";

const CHUNK = 32 * 1024;
const chunkOf = (index: number, length = CHUNK) => new Uint8Array(length).map((_, i) => (index * 31 + i) & 0xff);
/** A shelf for 10 chunks with `slots` slots, and both of its sides. */
function shelfOf(slots: number) {
  const shelf = createShelf(CHUNK, 10, slots);
  return { shelf, writer: new ShelfWriter(shelf), reader: new ShelfReader(shelf) };
}

describe("chunk shelf", () => {
  afterEach(() => vi.restoreAllMocks());

  it("hands out a copy of what was put, including a short last chunk, and nothing else", () => {
    const { writer, reader } = shelfOf(4);
    writer.put(3, chunkOf(3));
    writer.put(9, chunkOf(9, 5000));
    expect(reader.take(3)).toEqual(chunkOf(3));
    expect(reader.take(9)).toEqual(chunkOf(9, 5000));
    expect(reader.take(4)).toBeNull();
    expect(reader.take(-1)).toBeNull();
    expect(reader.take(10)).toBeNull();
    const copy = reader.take(3)!;
    copy.fill(0); // a copy: the shelf keeps its own
    expect(reader.take(3)).toEqual(chunkOf(3));
  });

  it("forgets the oldest chunk when its slot is reused", () => {
    const { writer, reader } = shelfOf(2);
    writer.put(1, chunkOf(1));
    writer.put(2, chunkOf(2));
    writer.put(5, chunkOf(5)); // takes chunk 1's slot
    expect(reader.take(1)).toBeNull();
    expect(reader.take(2)).toEqual(chunkOf(2));
    expect(reader.take(5)).toEqual(chunkOf(5));
  });

  it("refuses a copy made while its slot was rewritten", () => {
    const { writer, reader } = shelfOf(1);
    writer.put(1, chunkOf(1));
    // The loader reuses the slot for chunk 2 while the emulator copies chunk 1 out of it.
    const slice = Uint8Array.prototype.slice;
    vi.spyOn(Uint8Array.prototype, "slice").mockImplementationOnce(function (this: Uint8Array, ...args) {
      writer.put(2, chunkOf(2));
      return slice.apply(this, args);
    });
    expect(reader.take(1)).toBeNull();
    expect(reader.take(2)).toEqual(chunkOf(2));
  });

  it("refuses a slot whose write has not finished", () => {
    const { shelf, writer, reader } = shelfOf(2);
    writer.put(7, chunkOf(7));
    const meta = new Int32Array(shelf.meta);
    Atomics.add(meta, 0, 1); // slot 0's version odd: a write under way
    expect(reader.take(7)).toBeNull();
    Atomics.add(meta, 0, 1);
    expect(reader.take(7)).toEqual(chunkOf(7));
  });
});
