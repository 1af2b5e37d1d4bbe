/** Small DOM builders of the page's panels. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Pick<HTMLElementTagNameMap[K], "className" | "textContent" | "title">> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

export function button(className: string, text: string, title: string, onClick: () => void): HTMLButtonElement {
  const b = el("button", { className, textContent: text, title });
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}


/**
 * Disables a control and says why in its tooltip (and to screen readers); the usual title comes
 * back with enableAgain once the reason is gone.
 */
export function disableWithReason(control: HTMLButtonElement, reason: string): void {
  if (control.dataset.reason === undefined) control.dataset.title = control.title;
  control.dataset.reason = reason;
  control.disabled = true;
  control.title = reason;
  control.setAttribute("aria-description", reason);
}

export function enableAgain(control: HTMLButtonElement): void {
  if (control.dataset.reason === undefined) return;
  control.title = control.dataset.title ?? "";
  control.removeAttribute("aria-description");
  delete control.dataset.reason;
  delete control.dataset.title;
  control.disabled = false;
}

/** Files dropped on `root` (class "dragging" while one is held over it) go to `onFile`. */
export function onFileDrop(root: HTMLElement, onFile: (file: File) => void): void {
  onFilesDrop(root, (files) => onFile(files[0]));
}

/**
 * Every file dropped on `root` goes to `onFiles`. A drop an inner drop zone already took (it
 * called preventDefault) is left to it, so a page-wide zone and a panel's own can nest.
 */
export function onFilesDrop(root: HTMLElement, onFiles: (files: File[]) => void): void {
  // A counter, because dragenter/dragleave also fire for every child element crossed.
  let dragDepth = 0;
  const carriesFiles = (e: DragEvent) => e.dataTransfer?.types.includes("Files") === true;
  root.addEventListener("dragenter", (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    dragDepth++;
    root.classList.add("dragging");
  });
  root.addEventListener("dragover", (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
  });
  root.addEventListener("dragleave", () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) root.classList.remove("dragging");
  });
  root.addEventListener("drop", (e) => {
    dragDepth = 0;
    root.classList.remove("dragging");
    if (e.defaultPrevented) return;
    e.preventDefault();
    const files = Array.from(e.dataTransfer?.files ?? []);
    if (files.length > 0) onFiles(files);
  });
}
