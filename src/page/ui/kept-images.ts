/**
 * The "Kept" choice of the image form: images chosen as files before and kept in this browser
 * (src/disk/kept-file.ts), which boot after a reload without the file. Only complete copies are
 * offered; the list is read again whenever the worker may have finished keeping one.
 */
import { forgetKeptImage, listKeptImages } from "../../storage/image-db";

export interface KeptImages {
  /** The chosen kept image's id, if any. */
  chosen(): string | undefined;
  clear(): void;
  refresh(): Promise<void>;
}

/** `forget`: the button that deletes the chosen kept image (enabled while one is chosen). */
export function mountKeptImages(select: HTMLSelectElement, forget: HTMLButtonElement, onChoose: (name: string | undefined) => void): KeptImages {
  const refresh = async () => {
    // A complete copy, or an image a link or file brought that reads its missing blocks from its URL or the store.
    const kept = (await listKeptImages().catch(() => [])).filter((k) => k.complete || k.url || k.share);
    const was = select.value;
    select.replaceChildren(new Option("none", ""), ...kept.map((k) => new Option(k.name, k.id, false, k.id === was)));
    forget.disabled = !select.value;
  };
  select.addEventListener("change", () => {
    forget.disabled = !select.value;
    onChoose(select.value ? (select.selectedOptions[0]?.textContent ?? undefined) : undefined);
  });
  forget.addEventListener("click", () => {
    const id = select.value;
    if (!id) return;
    select.value = "";
    onChoose(undefined);
    void forgetKeptImage(id).finally(refresh);
  });
  void refresh();
  return {
    chosen: () => select.value || undefined,
    clear: () => {
      select.value = "";
      forget.disabled = true;
    },
    refresh,
  };
}
