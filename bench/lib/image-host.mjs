// The test images (scripts/lib/test-images.mjs) on their own origin for a benchmark run: built
// from Debian packages when missing, served with CORS and Range (scripts/lib/image-server.mjs).
import { startImageServer } from "../../scripts/lib/image-server.mjs";
import { freePort } from "../../scripts/lib/ports.mjs";
import { setup } from "../../scripts/lib/setup.mjs";
import { buildTestImages } from "../../scripts/lib/test-images.mjs";

/**
 * For runBench's `prepare`: returns `{ origin, images, served }` (`served()`: bytes the server
 * sent since the last call, so a bench can tell how much of an image a boot read); the server
 * stops at teardown.
 */
export async function startImageHost({ onTeardown }) {
  setup({ browser: true, testImages: true });
  const images = buildTestImages();
  // A fixed port where the machine's ports are shared out (SNAP86_BENCH_IMAGES_PORT), else any free one.
  const port = Number(process.env.SNAP86_BENCH_IMAGES_PORT) || (await freePort());
  const server = await startImageServer({ port });
  onTeardown(() => new Promise((resolve) => server.close(resolve)));
  const served = () => server.served.splice(0).reduce((n, r) => n + r.bytes, 0);
  return { origin: `http://127.0.0.1:${port}`, images, served };
}
