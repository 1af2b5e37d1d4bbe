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
