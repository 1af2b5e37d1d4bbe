/**
 * The files panel: files picked here or dropped anywhere on the page go into the guest's host
 * folder (/mnt/host); the folder's files are listed with a download button each, and any other
 * guest file can be downloaded by its path. All of it through src/page/guest-files.ts, the same
 * code as the automation API's upload() and download().
 */
import type { HostFile } from "../../protocol";
import { HOST_FOLDER } from "../../protocol/files";
import { downloadFile, uploadFile, type GuestFilesDeps } from "../guest-files";
import { button, el, onFilesDrop } from "./dom";
import { userMessage } from "./error-messages";

export interface FilesPanelDeps extends GuestFilesDeps {
  list(): Promise<HostFile[]>;
  onError(message: string): void;
  onNotice(message: string): void;
}

const formatSize = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);

/** Hands bytes to the browser as a download named after the guest file. */
export function saveAs(data: Uint8Array, guestPath: string): void {
  const url = URL.createObjectURL(new Blob([data as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = guestPath.split("/").pop() || "download";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function mountFilesPanel(root: HTMLElement, deps: FilesPanelDeps): { refresh(): Promise<void> } {
  const list = root.querySelector<HTMLOListElement>("#files-list");
  const status = root.querySelector<HTMLElement>("#files-status");
  const pick = root.querySelector<HTMLInputElement>("#files-pick");
  const form = root.querySelector<HTMLFormElement>("#files-download-form");
  const pathInput = root.querySelector<HTMLInputElement>("#files-download-path");
  if (!list || !status || !pick || !form || !pathInput) throw new Error("files panel markup is missing");
  const fail = (e: unknown) => {
    const message = userMessage(e);
    if (message) deps.onError(message);
  };

  const download = async (guestPath: string) => {
    status.textContent = `Downloading ${guestPath}…`;
    try {
      const data = await downloadFile(deps, guestPath);
      saveAs(data, guestPath);
      status.textContent = `Downloaded ${guestPath} (${formatSize(data.byteLength)})`;
    } catch (e) {
      status.textContent = "";
      fail(e);
    }
  };

  const refresh = async () => {
    const files = await deps.list().catch(() => [] as HostFile[]);
    list.replaceChildren(
      ...files.map((f) => {
        const guestPath = `${HOST_FOLDER}/${f.path}`;
        return el("li", {}, el("span", { className: "name", title: guestPath }, f.path), el("span", { className: "muted" }, formatSize(f.size)),
          button("download", "Download", `Download ${guestPath}`, () => void download(guestPath)));
      }),
    );
    root.classList.toggle("has-files", files.length > 0);
  };

  const upload = async (files: File[]) => {
    let done = 0;
    for (const file of files) {
      status.textContent = `Uploading ${file.name} (${done + 1} of ${files.length})…`;
      try {
        await uploadFile(deps, file.name, file);
        done += 1;
      } catch (e) {
        fail(e);
      }
    }
    status.textContent = done > 0 ? `${done} file${done === 1 ? "" : "s"} in ${HOST_FOLDER}` : "";
    if (done > 0) deps.onNotice(`${files.map((f) => f.name).join(", ")} ${done === 1 ? "is" : "are"} in the guest at ${HOST_FOLDER}.`);
    await refresh();
  };

  pick.addEventListener("change", () => {
    const files = Array.from(pick.files ?? []);
    pick.value = "";
    if (files.length > 0) void upload(files);
  });
  onFilesDrop(document.body, (files) => void upload(files));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const path = pathInput.value.trim();
    if (!path) return deps.onError("Enter the path of a guest file to download, e.g. /etc/hostname");
    void download(path);
  });
  root.querySelector("#files-refresh")?.addEventListener("click", () => void refresh());
  return { refresh };
}
