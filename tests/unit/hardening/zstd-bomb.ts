/**
 * A hand-made zstd "bomb": one frame of RLE blocks (4 bytes each, 128 KiB of output each) whose
 * header declares `declared` bytes. The review's reproduction: 8 KiB of input, 256 MiB out.
 */
export function zstdRleBomb(outputBytes: number, declared = outputBytes): Uint8Array {
  const BLOCK = 128 * 1024;
  const blocks = Math.ceil(outputBytes / BLOCK);
  const out = new Uint8Array(4 + 1 + 8 + blocks * 4);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xfd2fb528, true);
  out[4] = 0xe0; // 8-byte content size, single segment
  dv.setUint32(5, declared % 2 ** 32, true);
  dv.setUint32(9, Math.floor(declared / 2 ** 32), true);
  for (let b = 0; b < blocks; b++) {
    const size = Math.min(BLOCK, outputBytes - b * BLOCK);
    const last = b === blocks - 1 ? 1 : 0;
    const header = last | (1 << 1) | (size << 3); // RLE block
    const at = 13 + b * 4;
    out[at] = header & 0xff;
    out[at + 1] = (header >> 8) & 0xff;
    out[at + 2] = (header >> 16) & 0xff;
    out[at + 3] = 0x41;
  }
  return out;
}
