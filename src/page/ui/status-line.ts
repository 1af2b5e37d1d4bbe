/** Status line and progress bar: pure views of the events the worker sends. */
import type { LazyStatus, Progress, RunState, Stats } from "../../protocol";
import { userMessage } from "./error-messages";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}` : `${m}:${String(sec).padStart(2, "0")}`;
}

export function showState(state: RunState): void {
  if (state !== "loading") hideProgress();
  const el = $("status-state");
  el.textContent = state;
  el.dataset.state = state;
}

export function showStats(stats: Stats): void {
  $("status-uptime").textContent = `uptime ${formatUptime(stats.uptimeMs)}`;
  $("status-mips").textContent = stats.mips > 0 ? `${stats.mips.toFixed(1)} MIPS` : "";
}

const progressByLabel = new Map<string, Progress>();

export function showProgress(p: Progress): void {
  progressByLabel.set(p.label, p);
  let loaded = 0;
  let total = 0;
  for (const q of progressByLabel.values()) {
    loaded += q.loaded;
    total += q.total;
  }
  const done = total > 0 && loaded >= total;
  $("progress").hidden = done;
  $("progress-label").textContent = `Downloading ${[...progressByLabel.keys()].join(", ")}: ${(loaded / 1048576).toFixed(1)} of ${(total / 1048576).toFixed(1)} MiB`;
  const bar = $<HTMLProgressElement>("progress-bar");
  bar.max = Math.max(total, 1);
  bar.value = loaded;
  if (done) progressByLabel.clear();
}

function hideProgress(): void {
  progressByLabel.clear();
  $("progress").hidden = true;
}

export function showError(message: string | undefined): void {
  const el = $("error");
  el.hidden = !message;
  el.textContent = message ?? "";
}

/** Shows a failure in the page's words for its code; a cancelled operation shows nothing. */
export function showFailure(e: unknown, prefix = ""): void {
  const message = userMessage(e);
  if (message !== null) showError(`${prefix}${message}`);
}

export function showNotice(message: string | undefined): void {
  const el = $("notice");
  el.hidden = !message;
  el.textContent = message ?? "";
}

/** "RAM 37% resident · 640 faults" while a lazy restore is still loading RAM; empty otherwise. */
export function formatLazy(status: LazyStatus): string {
  if (!status.active || status.totalPages === 0) return "";
  const pct = Math.floor((100 * status.residentPages) / status.totalPages);
  return `RAM ${pct}% resident · ${status.faults} fault${status.faults === 1 ? "" : "s"}`;
}

export function showLazy(status: LazyStatus & { faultBytes?: number }): void {
  const el = document.getElementById("status-lazy");
  if (!el) return;
  el.textContent = formatLazy(status);
  // Exact figures for scripts (bench:lazy), kept after the restore completes.
  el.dataset.faults = String(status.faults);
  el.dataset.resident = String(status.residentPages);
  el.dataset.faultBytes = String(status.faultBytes ?? 0);
  el.dataset.active = String(status.active);
}
