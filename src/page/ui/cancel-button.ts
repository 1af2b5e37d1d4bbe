/**
 * A Cancel button for long operations (share upload/open, restore, export, import). Each run gets
 * its own AbortSignal, passed through the worker facets to where the work happens; the button is
 * shown only while a run is in progress, and starting a run cancels the one before it.
 */
import { Snap86Error } from "../../protocol/errors";
export class CancelButton {
  readonly element: HTMLButtonElement;
  #running: AbortController | undefined;

  constructor(id: string, label = "Cancel") {
    this.element = document.createElement("button");
    this.element.id = id;
    this.element.type = "button";
    this.element.textContent = label;
    this.element.hidden = true;
    this.element.addEventListener("click", () => this.#running?.abort());
  }

  async run<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.#running?.abort();
    const controller = new AbortController();
    this.#running = controller;
    this.element.hidden = false;
    try {
      return await work(controller.signal);
    } finally {
      if (this.#running === controller) {
        this.#running = undefined;
        this.element.hidden = true;
      }
      // The operation is over: aborting now only closes the message port the signal crossed
      // threads on (src/protocol/transfer.ts), which would otherwise stay open with its listener.
      controller.abort(new Snap86Error("aborted", "The operation had finished"));
    }
  }
}
