/**
 * Where the running machine reads the missing blocks of an image a share link brought as objects
 * (src/share/image-blocks.ts). Loaded on first use only: the share code and the zstd codec (its
 * wasm served from our own origin, as the checkpoint-I/O worker loads it) stay out of every
 * other boot.
 */
import zstdWasmUrl from "../../node_modules/@bokuweb/zstd-wasm/dist/web/zstd.wasm?url";
import type { BlockSource } from "../disk";
import type { KeptImageMeta } from "../storage/image-db";

export async function sharedImageSource(meta: KeptImageMeta): Promise<BlockSource> {
  const [{ initCodec }, { sharedImageBlocks }] = await Promise.all([import("../checkpoint/codec"), import("../share/image-blocks")]);
  await initCodec(zstdWasmUrl);
  return sharedImageBlocks(meta);
}
