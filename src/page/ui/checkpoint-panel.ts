/**
 * The checkpoint panel: take a checkpoint (Alt+C), watch it being written, and browse, restore,
 * rename, export, import and delete the stored ones as a tree. It only talks to the worker through
 * `remote`; the layout and the words come from the DOM-free checkpoint-tree / checkpoint-format.
 */
import type { CheckpointInfo, EmulatorEvent, MachineKind, RunState } from "../../protocol";
import type { EmulatorRemote } from "../emulator-client";
import { isOwnMachine } from "../../protocol/checkpoint-data";
import { isAborted } from "../../protocol/errors";
import { button, el, onFileDrop } from "./dom";
import { buildCheckpointTree, type CheckpointRow } from "./checkpoint-tree";
import {
  displayLabel, errorMessage, exportFileName, formatAbsolute, formatAge, formatCheckpointSize, IDLE_STATUS, isSnap86File,
  nextCheckpointStatus, nextDefaultLabel, resultStatus, type CheckpointStatus,
} from "./checkpoint-format";
import { thumbnailDataUrl, type Thumbnail } from "./thumbnail";
import { CancelButton } from "./cancel-button";

/** What the panel needs of EmulatorClient (structural, so the panel does not pull the worker in). */
export interface CheckpointHost {
  readonly remote: EmulatorRemote;
  readonly state: RunState;
  readonly machine?: MachineKind;
  /** The running machine's identity: checkpoints of another machine are marked as such. */
  readonly machineKey?: string;
  on(handler: (event: EmulatorEvent) => void): () => void;
}

export interface CheckpointPanelOptions {
  /** Picture of the screen stored with a new checkpoint. */
  thumbnail?: () => Promise<Thumbnail | undefined>;
  onError: (message: string | undefined) => void;
  onNotice: (message: string | undefined) => void;
  /** A checkpoint became the running machine's reset point (Reset returns to it). */
  onResetPoint?: (point: CheckpointInfo) => void;
  /** A checkpoint was imported (a user's machine's file brings its images: the Kept list changed). */
  onImported?: (info: CheckpointInfo) => void;
  root?: HTMLElement;
}

const AGE_REFRESH_MS = 30_000;

const isOn = (state: RunState) => state === "running" || state === "paused";

export function mountCheckpointPanel(host: CheckpointHost, options: CheckpointPanelOptions): void {
  const root = options.root ?? document.querySelector<HTMLElement>("section.checkpoints");
  if (!root) return;
  const q = <T extends HTMLElement>(selector: string) => {
    const found = root.querySelector<T>(selector);
    if (!found) throw new Error(`checkpoint panel: ${selector} is missing from the page`);
    return found;
  };
  const takeButton = q<HTMLButtonElement>("#checkpoint-button");
  const statusEl = q<HTMLElement>("#checkpoint-status");
  const statusText = q<HTMLElement>("#checkpoint-status .text");
  const statusBar = q<HTMLProgressElement>("#checkpoint-status progress");
  const listEl = q<HTMLOListElement>("#checkpoint-list");
  const emptyEl = q<HTMLElement>(".empty");
  const fileInput = q<HTMLInputElement>("#checkpoint-import");
  const cancel = new CancelButton("checkpoint-cancel");
  (root.querySelector(".toolbar") ?? root).append(cancel.element);
  const importButton = q<HTMLButtonElement>("#checkpoint-import-button");
  const restoreMode = q<HTMLSelectElement>("#restore-mode");
  // Always `host.remote`, never a copy: a reset can swap in the standby machine's worker.

  let list: CheckpointInfo[] = [];
  let status: CheckpointStatus = IDLE_STATUS;
  /** Set while one of our own actions (take / restore / import) runs, so they cannot overlap. */
  let busy = false;
  let editingId: string | undefined;
  let confirmingId: string | undefined;
  /** Checkpoints whose `checkpoint()` call already reported: late events must not overwrite that summary. */
  const reported = new Set<string>();

  const report = (e: unknown) => (isAborted(e) ? options.onNotice("Cancelled: nothing was changed.") : options.onError(errorMessage(e)));

  function showStatus(next: CheckpointStatus): void {
    status = next;
    statusEl.hidden = !next.text;
    statusEl.classList.toggle("failed", next.failed === true);
    statusEl.setAttribute("aria-busy", String(next.busy));
    statusText.textContent = next.text;
    statusBar.hidden = !next.busy;
    if (next.total) {
      statusBar.max = next.total;
      statusBar.value = Math.min(next.done ?? 0, next.total);
    } else statusBar.removeAttribute("value"); // indeterminate until the worker reports totals
    updateControls();
  }

  function updateControls(): void {
    const on = isOn(host.state);
    takeButton.disabled = !on || busy;
    importButton.disabled = busy;
    for (const b of listEl.querySelectorAll<HTMLButtonElement>("button.restore, button.reset-point")) b.disabled = !on || busy;
  }

  async function refresh(): Promise<void> {
    try {
      setList(await host.remote.checkpoints.list());
    } catch (e) {
      // With the machine off the worker may have no store open yet: an empty list is the truth then.
      if (isOn(host.state)) report(e);
    }
  }

  function setList(next: CheckpointInfo[]): void {
    list = next;
    if (confirmingId && !list.some((c) => c.id === confirmingId)) confirmingId = undefined;
    // Re-rendering would throw away the text being typed; the edit's end renders the latest list.
    if (!editingId) render();
  }

  function render(): void {
    const focused = document.activeElement;
    const focusRow = focused instanceof HTMLElement ? focused.closest<HTMLElement>("li.checkpoint")?.dataset.id : undefined;
    const focusClass = focused instanceof HTMLButtonElement ? focused.className : undefined;
    const rows = buildCheckpointTree(list);
    listEl.replaceChildren(...rows.map(renderRow));
    emptyEl.hidden = rows.length > 0;
    updateControls();
    if (focusRow && focusClass) {
      const again = listEl.querySelector<HTMLElement>(`li.checkpoint[data-id="${CSS.escape(focusRow)}"] button.${focusClass.split(" ")[0]}`);
      again?.focus();
    }
  }

  function renderRow(row: CheckpointRow): HTMLLIElement {
    const c = row.info;
    const li = el("li", { className: "checkpoint" });
    li.dataset.id = c.id;
    li.style.setProperty("--depth", String(row.depth));
    li.setAttribute("aria-level", String(row.depth + 1));
    li.classList.toggle("current", row.current);
    li.classList.toggle("on-path", row.onCurrentPath);
    li.classList.toggle("autosave", c.autosave);
    if (row.current) li.setAttribute("aria-current", "true");

    const thumb = c.thumbnail ? el("img", { className: "thumb" }) : el("div", { className: "thumb none" });
    if (thumb instanceof HTMLImageElement && c.thumbnail) {
      thumb.src = thumbnailDataUrl(c.thumbnail);
      thumb.alt = "";
      thumb.loading = "lazy";
    }

    const title = el("div", { className: "title" }, editingId === c.id ? labelEditor(c) : labelButton(c));
    if (row.current) title.append(el("span", { className: "tag current-marker", textContent: "current", title: "The running machine descends from this checkpoint" }));
    if (c.autosave) title.append(el("span", { className: "tag autosave", textContent: "autosave", title: "Saved automatically; replaced by the next autosave" }));
    if (c.golden) title.append(el("span", { className: "tag reset-point", textContent: "reset point", title: "Reset returns its machine to this state" }));
    const other = otherMachine(c);
    li.classList.toggle("other-machine", other);
    if (other) title.append(el("span", { className: "tag other-machine", textContent: "other machine", title: "Taken on another machine (another image, drive set or memory size): boot that machine to restore it" }));

    const time = el("time", { textContent: formatAge(c.created, Date.now()), title: formatAbsolute(c.created) });
    time.dateTime = new Date(c.created).toISOString();
    time.dataset.created = String(c.created);
    const size = el("span", {
      className: "size",
      textContent: formatCheckpointSize(c),
      title: "Stored (compressed) · only in this checkpoint, freed by deleting it · shared with other checkpoints",
    });
    const info = el("div", { className: "info" }, title, el("div", { className: "meta" }, time, " · ", size));
    li.append(thumb, info, confirmingId === c.id ? confirmActions(c) : rowActions(c));
    return li;
  }

  function labelButton(c: CheckpointInfo): HTMLButtonElement {
    const b = button("label", displayLabel(c), "Rename (click or Enter)", () => {
      editingId = c.id;
      confirmingId = undefined;
      render();
      const input = listEl.querySelector<HTMLInputElement>("input.label-input");
      input?.focus();
      input?.select();
    });
    return b;
  }

  function labelEditor(c: CheckpointInfo): HTMLInputElement {
    const input = el("input", { className: "label-input", title: "Enter to save, Escape to cancel" });
    input.value = c.label;
    input.maxLength = 200;
    input.setAttribute("aria-label", "Checkpoint label");
    let finished = false;
    const finish = (save: boolean) => {
      if (finished) return;
      finished = true;
      const label = input.value.trim();
      editingId = undefined;
      render();
      listEl.querySelector<HTMLButtonElement>(`li.checkpoint[data-id="${CSS.escape(c.id)}"] button.label`)?.focus();
      if (!save || !label || label === c.label) return;
      // Show the new name at once; the refresh brings the worker's truth.
      list = list.map((x) => (x.id === c.id ? { ...x, label } : x));
      render();
      host.remote.checkpoints.label(c.id, label).catch(report).finally(() => void refresh());
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") finish(true);
      else if (e.key === "Escape") finish(false);
      else return;
      e.preventDefault();
      e.stopPropagation();
    });
    input.addEventListener("blur", () => finish(true));
    return input;
  }

  function rowActions(c: CheckpointInfo): HTMLDivElement {
    const restore = button("restore", "Restore", `Go back to “${c.label}”`, () => void restoreCheckpoint(c));
    restore.disabled = !isOn(host.state) || busy;
    const resetPoint = otherMachine(c) || c.golden ? [] : [button("reset-point", "Use as reset point", `Reset returns this machine to “${c.label}”`, () => void useAsResetPoint(c))];
    for (const b of resetPoint) b.disabled = !isOn(host.state) || busy;
    return el(
      "div",
      { className: "actions" },
      restore,
      ...resetPoint,
      button("export", "Export", `Download “${c.label}” as a .snap86 file`, () => void exportCheckpoint(c)),
      button("delete", "Delete", `Delete “${c.label}”`, () => {
        confirmingId = c.id;
        render();
        listEl.querySelector<HTMLButtonElement>(`li.checkpoint[data-id="${CSS.escape(c.id)}"] button.cancel-delete`)?.focus();
      }),
    );
  }

  function confirmActions(c: CheckpointInfo): HTMLDivElement {
    const cancel = () => {
      confirmingId = undefined;
      render();
      listEl.querySelector<HTMLButtonElement>(`li.checkpoint[data-id="${CSS.escape(c.id)}"] button.delete`)?.focus();
    };
    const box = el(
      "div",
      { className: "actions confirm" },
      el("span", { textContent: "Delete?" }),
      button("confirm-delete", "Yes", `Delete “${c.label}” for good`, () => void deleteCheckpoint(c)),
      button("cancel-delete", "No", "Keep it", cancel),
    );
    box.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        cancel();
      }
    });
    return box;
  }

  /** One of our own actions at a time; restore and import can be cancelled (their signal). */
  async function run(action: (signal: AbortSignal) => Promise<void>): Promise<void> {
    if (busy) return;
    busy = true;
    updateControls();
    try {
      await cancel.run(action);
    } catch (e) {
      report(e);
    } finally {
      busy = false;
      updateControls();
      await refresh();
    }
  }

  async function takeCheckpoint(): Promise<void> {
    if (!isOn(host.state) || busy) return;
    await run(async () => {
      const label = nextDefaultLabel(list);
      const thumbnail = await options.thumbnail?.().catch(() => undefined);
      showStatus({ busy: true, text: "Pausing the machine…" });
      try {
        const result = await host.remote.checkpoints.take(thumbnail ? { label, thumbnail } : { label });
        reported.add(result.id);
        showStatus(resultStatus(label, result));
      } catch (e) {
        showStatus({ busy: false, failed: true, text: `Checkpoint failed: ${errorMessage(e)}` });
        throw e;
      }
    });
  }

  async function restoreCheckpoint(c: CheckpointInfo): Promise<void> {
    await run(async (signal) => {
      options.onError(undefined);
      const r = await host.remote.checkpoints.restore(c.id, { mode: restoreMode.value === "eager" ? "eager" : "lazy" }, signal);
      const how = r.mode === "lazy" ? " (lazily: RAM loads in the background)" : r.lazyUnavailable ? ` (eager: lazy restore unavailable, ${r.lazyUnavailable})` : "";
      options.onNotice(`Restored “${c.label}” in ${Math.round(r.restoreMs)} ms${how}`);
    });
  }

  /** Of another machine than the one running (unknown while none runs: nothing is marked then). */
  function otherMachine(c: CheckpointInfo): boolean {
    return host.machineKey !== undefined && isOn(host.state) && c.machineKey !== host.machineKey;
  }

  async function useAsResetPoint(c: CheckpointInfo): Promise<void> {
    await run(async () => {
      options.onError(undefined);
      const point = await host.remote.reset.setResetPoint(c.id);
      options.onResetPoint?.(point);
      options.onNotice(`Reset now returns this machine to “${c.label}”.`);
    });
  }

  async function exportCheckpoint(c: CheckpointInfo): Promise<void> {
    try {
      const blob = await cancel.run((signal) => host.remote.checkpoints.exportFile(c.id, signal));
      const url = URL.createObjectURL(blob);
      const a = el("a");
      a.href = url;
      a.download = exportFileName(c.label);
      a.hidden = true;
      document.body.append(a);
      a.click();
      a.remove();
      // Revoking at once can cancel the download in some browsers.
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      report(e);
    }
  }

  async function deleteCheckpoint(c: CheckpointInfo): Promise<void> {
    confirmingId = undefined;
    try {
      await host.remote.checkpoints.remove(c.id);
      list = list.filter((x) => x.id !== c.id);
      render();
      importButton.focus();
    } catch (e) {
      report(e);
    }
    await refresh();
  }

  async function importFile(file: File): Promise<void> {
    if (!isSnap86File(file.name)) {
      options.onError(`${file.name} is not a .snap86 checkpoint file`);
      return;
    }
    await run(async (signal) => {
      options.onError(undefined);
      const info = await host.remote.checkpoints.importFile(file, signal);
      const own = isOwnMachine(info.machineKey) && !info.current;
      options.onNotice(`Imported “${info.label}”${own ? ": its machine's images are kept in this browser; boot them from Kept, then restore it" : ""}`);
      options.onImported?.(info);
    });
  }

  takeButton.addEventListener("click", () => void takeCheckpoint());
  importButton.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    const file = fileInput.files?.[0];
    fileInput.value = ""; // picking the same file again must fire `change` again
    if (file) void importFile(file);
  });

  onFileDrop(root, (file) => void importFile(file));

  document.addEventListener("keydown", (e) => {
    // Keys typed on the screen belong to the guest, as with the other Alt shortcuts.
    if (!e.altKey || e.ctrlKey || e.metaKey || e.target instanceof HTMLCanvasElement) return;
    if (e.key.toLowerCase() !== "c") return;
    e.preventDefault();
    void takeCheckpoint();
  });

  host.on((event) => {
    switch (event.type) {
      case "checkpoints":
        setList(event.list);
        break;
      case "checkpoint":
        if (reported.has(event.id)) break;
        showStatus(nextCheckpointStatus(status, event));
        if (event.phase === "done" || event.phase === "failed") void refresh();
        break;
      case "state":
        if (!isOn(event.state) && status.busy) showStatus(IDLE_STATUS);
        // Which rows are another machine's depends on what runs (a label being typed is kept).
        if (editingId) updateControls();
        else render();
        // The worker can list once a machine (and its store) is up.
        if (event.state === "running") void refresh();
        break;
    }
  });

  setInterval(() => {
    const now = Date.now();
    for (const t of listEl.querySelectorAll<HTMLTimeElement>("time[data-created]")) t.textContent = formatAge(Number(t.dataset.created), now);
  }, AGE_REFRESH_MS);

  showStatus(IDLE_STATUS);
  render();
  void refresh();
}
