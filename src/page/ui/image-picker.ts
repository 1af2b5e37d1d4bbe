/**
 * The "your own image" form's drive choice: Auto shows what the image's content says before it
 * boots (a picked file's first 32 KiB and size are read at once; a URL is judged by its name until
 * the worker reads its content), and a drive chosen by hand always wins.
 */
import { detectMediaKind, DRIVE_NAMES, kindFromName, MEDIA_HEAD_BYTES, type MediaGuess } from "../../protocol/media-kind";
import type { ImageKind } from "../../protocol/machine-config";

export interface ImagePicker {
  /** The drive to ask for: the user's choice, else what a picked file's content says, else "auto". */
  kind(): ImageKind;
  /** Call when the file or URL changes. */
  update(source: { file?: File; url?: string }): Promise<void>;
}

export function mountImagePicker(select: HTMLSelectElement, output: HTMLOutputElement): ImagePicker {
  let detected: MediaGuess | undefined;
  let generation = 0;
  const show = (text: string) => (output.textContent = text);
  return {
    kind: () => (select.value !== "auto" ? (select.value as ImageKind) : (detected?.kind ?? "auto")),
    async update({ file, url }) {
      const mine = ++generation;
      detected = undefined;
      if (file) {
        const head = new Uint8Array(await file.slice(0, MEDIA_HEAD_BYTES).arrayBuffer().catch(() => new ArrayBuffer(0)));
        if (mine !== generation) return; // another file was picked meanwhile
        detected = detectMediaKind(head, file.size, file.name);
        show(`Auto: ${DRIVE_NAMES[detected.kind]} (${detected.reason})`);
      } else if (url) {
        const named = kindFromName(url);
        show(`Auto: decided from its content once its first blocks are read${named ? ` (the name suggests a ${DRIVE_NAMES[named]})` : ""}`);
      } else show("");
    },
  };
}
