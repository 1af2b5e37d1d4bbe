// The SIMD zero-tail scan: the same answers as a byte loop (never less than the exact used
// length) on v86-like wasm memory, the JS path elsewhere, and the inline module is what its
// documented text compiles to.
import { describe, expect, it } from "vitest";
import binaryen from "binaryen";
import { usedLength, usedLengthJs, ZERO_SCAN_WASM_BASE64 } from "../../../src/v86/zero-scan";

function exact(bytes: Uint8Array): number {
  let end = bytes.byteLength;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/** Builds the module from the text in zero-scan.ts's header. */
function buildModule(): Uint8Array {
  const m = new binaryen.Module();
  m.setFeatures(binaryen.Features.SIMD128);
  m.setMemory(1, -1, null, [], false, false, "0");
  m.addMemoryImport("0", "env", "memory");
  const i32 = binaryen.i32;
  const local = (i: number) => m.local.get(i, i32);
  const load = (offset: number) => m.v128.load(offset, 16, m.i32.sub(local(1), m.i32.const(64)));
  const anyNonZero = m.v128.any_true(m.v128.or(m.v128.or(load(0), load(16)), m.v128.or(load(32), load(48))));
  const loop = m.block("done", [
    m.loop("l", m.block(null, [m.br("done", m.i32.le_u(local(1), local(0))), m.br("done", anyNonZero), m.local.set(1, m.i32.sub(local(1), m.i32.const(64))), m.br("l")])),
  ]);
  m.addFunction("last_nonzero", binaryen.createType([i32, i32]), i32, [], m.block(null, [loop, local(1)], i32));
  m.addFunctionExport("last_nonzero", "last_nonzero");
  expect(m.validate()).toBeTruthy();
  m.optimize();
  const out = m.emitBinary();
  m.dispose();
  return out;
}

describe("usedLength", () => {
  it("is the module its header describes", () => {
    expect(Buffer.from(buildModule()).toString("base64")).toBe(ZERO_SCAN_WASM_BASE64);
  });

  it("finds the zero tail of wasm memory with SIMD, never short of the last non-zero byte", () => {
    const memory = new WebAssembly.Memory({ initial: 80 });
    const region = new Uint8Array(memory.buffer, 1 << 20, 4 << 20);
    expect(usedLength(region, memory)).toBe(0);
    for (const at of [0, 1, 63, 64, 65, 120 * 1024, (4 << 20) - 1]) {
      region.fill(0);
      region[at] = 7;
      const used = usedLength(region, memory);
      expect(used).toBeGreaterThanOrEqual(exact(region));
      expect(used).toBe(Math.ceil((at + 1) / 64) * 64);
    }
    // Bytes just before the region are not its own.
    region.fill(0);
    new Uint8Array(memory.buffer)[(1 << 20) - 1] = 9;
    expect(usedLength(region, memory)).toBe(0);
  });

  it("uses the JS loop for other buffers and odd sizes, with the same guarantee", () => {
    const memory = new WebAssembly.Memory({ initial: 2 });
    for (const size of [0, 3, 32, 100, 4096]) {
      for (const at of [0, 1, 31, size - 1]) {
        if (at < 0 || at >= size) continue;
        const bytes = new Uint8Array(size);
        bytes[at] = 1;
        expect(usedLength(bytes, memory)).toBeGreaterThanOrEqual(exact(bytes));
        expect(usedLength(bytes, memory) - exact(bytes)).toBeLessThan(4);
        expect(usedLengthJs(bytes)).toBe(usedLength(bytes));
      }
    }
    // An unaligned view of wasm memory takes the JS path.
    const view = new Uint8Array(memory.buffer, 3, 640);
    view[600] = 1;
    expect(usedLength(view, memory)).toBe(601);
  });
});
