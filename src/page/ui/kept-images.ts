/**
 * The "Kept" choice of the image form: images chosen as files before and kept in this browser
 * (src/disk/kept-file.ts), which boot after a reload without the file. Only complete copies are
 * offered; the list is read again whenever the worker may have finished keeping one.
 */
import { listKeptImages } from "../../storage/image-db";

export interface KeptImages {
  /** The chosen kept image's id, if any. */
  chosen(): string | undefined;
  clear(): void;
  refresh(): Promise<void>;
}

export function mountKeptImages(select: HTMLSelectElement, onChoose: (name: string | undefined) => void): KeptImages {
  const refresh = async () => {
    const kept = (await listKeptImages().catch(() => [])).filter((k) => k.complete);
    const was = select.value;
    select.replaceChildren(new Option("none", ""), ...kept.map((k) => new Option(k.name, k.id, false, k.id === was)));
  };
  select.addEventListener("change", () => onChoose(select.value ? select.selectedOptions[0]?.textContent ?? undefined : undefined));
  void refresh();
  return {
    chosen: () => select.value || undefined,
    clear: () => void (select.value = ""),
    refresh,
  };
}
