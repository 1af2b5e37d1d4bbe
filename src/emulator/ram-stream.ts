/**
 * The emulator worker's half of a streamed capture: after the pause, the chunks of a capture
 * plan are read from the copy-on-write snapshot (running RAM, or the copy taken aside before a
 * page's first write) in parts, while the guest runs between parts, and handed to the
 * checkpoint-I/O worker, which hashes, compresses and stores them. All-zero chunks travel as
 * indices only. Two parts are in flight at most: one being stored, the next read behind it.
 */
import * as Comlink from "comlink";
import { isZero } from "../checkpoint/chunks";
import type { CaptureMeta, CaptureTimings, CheckpointManifest } from "../protocol/checkpoint-data";
import type { CaptureJobs } from "../protocol/checkpoint-io";
import type { RemoteFacets } from "../protocol/remote";
import { PAGE_SIZE } from "../v86/page-walker";
import type { CapturePlan } from "./memory-tracking";

/** RAM read per part: small enough that reading it is a short break for the guest. */
const PART_BYTES = 4 * 1024 * 1024;
const IN_FLIGHT = 2;

export interface StreamedCapture {
  manifest: CheckpointManifest;
  timings: Partial<CaptureTimings>;
  /** Chunks read and sent (written since the base, or all). */
  chunksSent: number;
  /** Most pages held aside at once. */
  stagedPeakPages: number;
  /** Most memory the capture held at once beyond the guest's RAM: pages aside plus parts not yet stored. */
  peakExtraBytes: number;
}

export async function streamCapture(
  io: RemoteFacets<{ capture: CaptureJobs }>,
  meta: CaptureMeta,
  deviceState: ArrayBuffer,
  plan: CapturePlan,
  ramLength: number,
  onProgress: (done: number, total: number) => void,
  /** Sees each chunk as read (the golden state keeps its RAM in memory for resets). */
  keep?: (index: number, bytes: Uint8Array) => void,
): Promise<StreamedCapture> {
  const { snapshot, chunkSize } = plan;
  const pagesPerChunk = chunkSize / PAGE_SIZE;
  const pageCount = ramLength / PAGE_SIZE;
  try {
    await io.capture.begin(meta, Comlink.transfer(deviceState, [deviceState]), ramLength, chunkSize, plan.base, plan.baseId);
    const perPart = Math.max(1, Math.floor(PART_BYTES / chunkSize));
    const inFlight: { done: Promise<void>; bytes: number }[] = [];
    let read = 0;
    let peakExtraBytes = 0;
    const measure = (): void => {
      const held = snapshot.staged * PAGE_SIZE + inFlight.reduce((n, p) => n + p.bytes, 0);
      if (held > peakExtraBytes) peakExtraBytes = held;
    };
    for (let first = 0; first < plan.chunks.length; first += perPart) {
      const part = plan.chunks.slice(first, first + perPart);
      const data = new Uint8Array(part.length * chunkSize);
      const indices: number[] = [];
      const zeros: number[] = [];
      let offset = 0;
      for (const index of part) {
        const firstPage = index * pagesPerChunk;
        const pages = Math.min(pagesPerChunk, pageCount - firstPage);
        const dest = data.subarray(offset, offset + pages * PAGE_SIZE);
        snapshot.read(firstPage, pages, dest);
        keep?.(index, dest);
        if (isZero(dest)) zeros.push(index);
        else {
          indices.push(index);
          offset += dest.byteLength;
        }
      }
      read += part.length;
      // A part of zeros still goes: the base may have had those chunks non-zero.
      const bytes = offset === data.byteLength ? data : data.slice(0, offset);
      const sent = io.capture.addRam(meta.id, indices, Comlink.transfer(bytes, [bytes.buffer]), zeros);
      // Awaited below; until then its failure must not count as unhandled.
      sent.catch(() => undefined);
      // The part being read counts until it is handed over (the copy and the part coexist).
      inFlight.push({ done: sent, bytes: data.byteLength });
      measure();
      onProgress(read, plan.chunks.length);
      if (inFlight.length >= IN_FLIGHT) {
        await inFlight[0].done;
        measure();
        inFlight.shift();
      }
    }
    await Promise.all(inFlight.map((p) => p.done));
    measure();
    const { manifest, timings } = await io.capture.commit(meta.id);
    return { manifest, timings, chunksSent: plan.chunks.length, stagedPeakPages: snapshot.stagedPeak, peakExtraBytes };
  } catch (e) {
    await io.capture.abort(meta.id).catch(() => undefined);
    throw e;
  } finally {
    snapshot.close();
  }
}
