/**
 * Several drives at once: "Add drive" keeps the image chosen in the form (file or URL, with its
 * drive) in a list, and the next one can be chosen; the list's order is the boot order ("Boot
 * first" moves a drive up). Booting sends the listed drives and the one still in the form.
 */
import type { ImageSource } from "../../protocol/machine-config";
import { DRIVE_NAMES } from "../../protocol/media-kind";
import { button, el } from "./dom";

export interface DriveList {
  /** Keeps `source` as a drive (the form is then free for the next one). */
  add(source: ImageSource): void;
  /** The kept drives, in boot order. */
  drives(): ImageSource[];
}

function label(source: ImageSource): string {
  const name = "url" in source ? source.url : "stored" in source ? "kept image" : source.name;
  const drive = source.kind && source.kind !== "auto" ? DRIVE_NAMES[source.kind] : "Auto";
  return `${drive}: ${name}`;
}

export function mountDriveList(list: HTMLOListElement): DriveList {
  const kept: ImageSource[] = [];
  const render = () => {
    list.replaceChildren(
      ...kept.map((source, i) =>
        el(
          "li",
          {},
          el("span", { textContent: label(source) }),
          Object.assign(button("drive-first", "Boot first", "Try this drive first when the machine starts", () => move(i)), { disabled: i === 0 }),
          button("drive-remove", "Remove", "Take this image out of the machine", () => remove(i)),
        ),
      ),
    );
    list.hidden = kept.length === 0;
  };
  const move = (i: number) => {
    kept.unshift(...kept.splice(i, 1));
    render();
  };
  const remove = (i: number) => {
    kept.splice(i, 1);
    render();
  };
  render();
  return {
    add(source) {
      kept.push(source);
      render();
    },
    drives: () => [...kept],
  };
}
