/**
 * The "your own image" form's drive choice: Auto shows what the image's content says before it
 * boots (a picked file's first 32 KiB and size are read at once; a URL's by one Range request once
 * typing pauses, judged by its name while it cannot be read), and a drive chosen by hand always wins.
 */
import { detectMediaKind, DRIVE_NAMES, kindFromName, MEDIA_HEAD_BYTES, sizeFromContentRange, type MediaGuess } from "../../protocol/media-kind";

/** Typing pause before a typed URL's head is read: one request per URL, not per keystroke. */
const URL_PROBE_DELAY_MS = 400;

/** The first bytes and the size of the image at `url`, or undefined when the server does not tell (no CORS, no Range). */
async function probeUrl(url: string, signal: AbortSignal): Promise<{ head: Uint8Array; size: number } | undefined> {
  const response = await fetch(url, { headers: { Range: `bytes=0-${MEDIA_HEAD_BYTES - 1}` }, signal }).catch(() => undefined);
  const size = response?.status === 206 ? sizeFromContentRange(response.headers.get("content-range")) : null;
  if (!response || size === null) {
    void response?.body?.cancel(); // never download a whole image here
    return undefined;
  }
  return { head: new Uint8Array(await response.arrayBuffer()), size };
}
import type { ImageKind } from "../../protocol/machine-config";

export interface ImagePicker {
  /** The drive to ask for: the user's choice, else "auto". */
  kind(): ImageKind;
  /** Call when the file or URL changes. */
  update(source: { file?: File; url?: string }): Promise<void>;
}

export function mountImagePicker(select: HTMLSelectElement, output: HTMLOutputElement): ImagePicker {
  let generation = 0;
  let probe: AbortController | undefined;
  const show = (text: string) => (output.textContent = text);
  const showGuess = (guess: MediaGuess) => show(`Auto: ${DRIVE_NAMES[guess.kind]} (${guess.reason})`);
  return {
    // "auto" unless chosen: the worker decides from the same bytes by the same rule, and says why.
    kind: () => select.value as ImageKind,
    async update({ file, url }) {
      const mine = ++generation;
      if (file) {
        const head = new Uint8Array(await file.slice(0, MEDIA_HEAD_BYTES).arrayBuffer().catch(() => new ArrayBuffer(0)));
        if (mine !== generation) return; // another file was picked meanwhile
        showGuess(detectMediaKind(head, file.size, file.name));
      } else if (url) {
        const named = kindFromName(url);
        show(`Auto: decided from its content once its first blocks are read${named ? ` (the name suggests a ${DRIVE_NAMES[named]})` : ""}`);
        probe?.abort();
        const controller = (probe = new AbortController());
        await new Promise((resolve) => setTimeout(resolve, URL_PROBE_DELAY_MS));
        if (mine !== generation) return;
        const read = await probeUrl(url, controller.signal).catch(() => undefined);
        if (!read || mine !== generation) return;
        showGuess(detectMediaKind(read.head, read.size, url));
      } else show("");
    },
  };
}
