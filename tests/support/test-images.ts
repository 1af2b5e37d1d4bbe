/**
 * The project's test images (scripts/lib/test-images.mjs, built from Debian packages and nasm):
 * their catalog, paths on disk, and URLs on the test image server (another origin, CORS + Range).
 */
import { join } from "node:path";
import { buildTestImages, TEST_IMAGES_DIR, type TestImage } from "../../scripts/lib/test-images.mjs";

export type { TestImage };

/** Built on first use (idempotent: a no-op when the inputs did not change). */
export const testImages: readonly TestImage[] = buildTestImages({ log: () => undefined });

export function testImage(name: string): TestImage & { path: string } {
  const image = testImages.find((i) => i.name === name);
  if (!image) throw new Error(`no test image ${name}`);
  return { ...image, path: join(TEST_IMAGES_DIR, name) };
}

/** The image server's origin (playwright.config.ts starts it). */
export function imagesOrigin(): string {
  const origin = process.env.SNAP86_TEST_IMAGES_ORIGIN;
  if (!origin) throw new Error("SNAP86_TEST_IMAGES_ORIGIN is not set: run through playwright.config.ts");
  return origin;
}

/**
 * This Playwright worker's folder on the image server: its requests, and only its, are in its
 * servedLog() (workers run side by side and read the same images).
 */
export function workerScope(): string {
  return `/w${process.env.TEST_WORKER_INDEX ?? "0"}/`;
}

/** `prefix`: "" (CORS and Range), "no-range/" or "no-cors/" (image-server.mjs). */
export function imageUrl(name: string, prefix = ""): string {
  return `${imagesOrigin()}${workerScope()}${prefix}${name}`;
}

export interface ServedRequest {
  path: string;
  range: string | null;
  status: number;
  bytes: number;
}

/** What the image server served this worker since its last clearServedLog(); paths without the worker's folder. */
export async function servedLog(): Promise<ServedRequest[]> {
  const scope = workerScope();
  const log = (await (await fetch(`${imagesOrigin()}/_log?scope=${encodeURIComponent(scope)}`)).json()) as ServedRequest[];
  return log.map((r) => ({ ...r, path: `/${r.path.slice(scope.length)}` }));
}

export async function clearServedLog(): Promise<void> {
  await fetch(`${imagesOrigin()}/_log?scope=${encodeURIComponent(workerScope())}`, { method: "POST" });
}
