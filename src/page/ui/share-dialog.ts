/**
 * Share links in the page: a "Share" button in the checkpoint panel's toolbar shares the current
 * checkpoint (the newest one, or a fresh one if there is none) and shows the link with a Copy
 * button; `openLink` opens a `#share=` link (main.ts calls it instead of the normal autoboot).
 * Elements are created here so the page markup stays the lead's: #share-button, #share-link,
 * #share-copy, #share-cancel, #share-status (data-state: busy | shared | opened | failed | cancelled).
 * Upload and open run under an AbortController: Cancel (or a second operation) stops them, and a
 * cancelled open leaves the running machine as it was.
 */
import type { EmulatorEvent, RunState } from "../../protocol";
import type { EmulatorRemote } from "../emulator-client";
import type { MachineConfig } from "../../protocol/machine-config";
import type { ShareOptions } from "../../protocol/share";
import { Snap86Error } from "../../protocol/errors";
import { userMessage } from "./error-messages";
import { CancelButton } from "./cancel-button";


export interface ShareHost {
  readonly remote: EmulatorRemote;
  readonly state: RunState;
  on(handler: (event: EmulatorEvent) => void): () => void;
}

export interface SharePanelOptions {
  onError: (message: string | undefined) => void;
  onNotice: (message: string | undefined) => void;
  /** The machine to boot a shared checkpoint into. */
  config: () => MachineConfig;
  /** A link of a user's machine booted it (its images now kept here): the page follows that machine. */
  onOwnMachine?: (config: MachineConfig) => void;
  root?: HTMLElement;
}

export interface SharePanel {
  /** Opens a share link and boots into it; failures go to the error banner. Resolves either way. */
  openLink(link: string): Promise<boolean>;
}

const MIB = 1024 * 1024;

/** "Uploading checkpoint: 3.2 of 12.0 MiB" / "Opening shared VM: 3.2 of 12.0 MiB". */
export function formatShareProgress(phase: "upload" | "download" | "read-image", done: number, total: number): string {
  const what = phase === "upload" ? "Uploading checkpoint" : phase === "read-image" ? "Reading your image" : "Opening shared VM";
  return `${what}: ${(done / MIB).toFixed(1)} of ${(Math.max(total, done) / MIB).toFixed(1)} MiB`;
}

/** The link's app URL: this page without query or fragment, so the opener gets the defaults. */
export function appUrlOf(location: Pick<Location, "origin" | "pathname">): string {
  return `${location.origin}${location.pathname}`;
}


export function mountSharePanel(host: ShareHost, options: SharePanelOptions): SharePanel {
  const root = options.root ?? document.querySelector<HTMLElement>(".checkpoints") ?? document.body;
  const toolbar = root.querySelector(".toolbar") ?? root;

  const button = document.createElement("button");
  button.id = "share-button";
  button.type = "button";
  button.textContent = "Share";
  button.title = "Upload the current checkpoint (encrypted) and get a link that opens it in any browser";
  toolbar.append(button);

  const box = document.createElement("div");
  box.id = "share-box";
  box.style.cssText = "display:flex;gap:0.5rem;align-items:center;margin:0.5rem 0 0";
  box.hidden = true;
  const input = document.createElement("input");
  input.id = "share-link";
  input.readOnly = true;
  input.style.flex = "1";
  input.setAttribute("aria-label", "Share link");
  const copy = document.createElement("button");
  copy.id = "share-copy";
  copy.type = "button";
  copy.textContent = "Copy";
  box.append(input, copy);
  // A user's machine booted from a URL may name that URL instead of uploading the image.
  const imageBy = document.createElement("select");
  imageBy.id = "share-image-by";
  imageBy.setAttribute("aria-label", "How a share link carries your image");
  imageBy.title = "Upload: the link carries your image's blocks (encrypted). By its URL: the opener reads it from the URL you booted it from (a picked file is always uploaded)";
  imageBy.append(new Option("Image: upload", "upload"), new Option("Image: by its URL", "url"));
  imageBy.hidden = true;
  toolbar.append(imageBy);
  const cancel = new CancelButton("share-cancel");
  toolbar.append(cancel.element);

  const status = document.createElement("div");
  status.id = "share-status";
  status.setAttribute("role", "status");
  status.hidden = true;
  toolbar.after(box, status);

  const setStatus = (state: "busy" | "shared" | "opened" | "failed" | "cancelled", text: string): void => {
    status.hidden = false;
    status.dataset.state = state;
    status.textContent = text;
  };

  host.on((event) => {
    if (event.type === "share" && status.dataset.state === "busy") setStatus("busy", formatShareProgress(event.phase, event.done, event.total));
    if (event.type === "state") imageBy.hidden = event.machine !== "own-image";
  });

  copy.addEventListener("click", () => {
    input.select();
    void navigator.clipboard?.writeText(input.value).then(
      () => options.onNotice("Share link copied."),
      () => options.onNotice("Select the link and copy it (the browser refused clipboard access)."),
    );
  });

  /** The checkpoint to share: the current one, else the newest, else a new one of the running machine. */
  async function pickCheckpoint(): Promise<string> {
    const list = await host.remote.checkpoints.list();
    const current = list.find((c) => c.current);
    if (current) return current.id;
    const newest = [...list].sort((a, b) => b.created - a.created)[0];
    if (newest) return newest.id;
    if (host.state !== "running" && host.state !== "paused") throw new Snap86Error("machine-off", "Boot the machine or take a checkpoint first: there is nothing to share yet");
    return (await host.remote.checkpoints.take({})).id;
  }

  button.addEventListener("click", () => {
    void (async () => {
      button.disabled = true;
      options.onError(undefined);
      setStatus("busy", "Preparing the share…");
      try {
        const id = await pickCheckpoint();
        const options: ShareOptions = imageBy.hidden ? {} : { imageBy: imageBy.value === "url" ? "url" : "upload" };
        const result = await cancel.run((signal) => host.remote.share.publish(id, appUrlOf(location), signal, options));
        input.value = result.link;
        box.hidden = false;
        const sent = result.uploadedBytes > 0 ? `${(result.uploadedBytes / MIB).toFixed(1)} MiB uploaded` : "nothing new to upload";
        setStatus("shared", `Shared (${sent}). Anyone with the link can open this VM.`);
      } catch (e) {
        const message = userMessage(e);
        if (message === null) return setStatus("cancelled", "Sharing cancelled: nothing was lost.");
        setStatus("failed", "Sharing failed.");
        options.onError(`Could not share the checkpoint: ${message}`);
      } finally {
        button.disabled = false;
      }
    })();
  });

  return {
    async openLink(link) {
      options.onError(undefined);
      setStatus("busy", "Opening shared VM…");
      try {
        const opened = await cancel.run((signal) => host.remote.share.open(link, options.config(), signal));
        if (opened.config) options.onOwnMachine?.(opened.config);
        setStatus("opened", "Opened the shared VM. It is in your checkpoint list: keep it or delete it.");
        // The link did its job; a reload should resume this session, not fetch it again.
        history.replaceState(null, "", `${location.pathname}${location.search}`);
        return true;
      } catch (e) {
        const message = userMessage(e);
        if (message === null) {
          setStatus("cancelled", "Opening the shared VM was cancelled.");
          return false;
        }
        setStatus("failed", "Could not open the shared VM.");
        options.onError(message);
        return false;
      }
    },
  };
}
