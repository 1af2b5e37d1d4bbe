/**
 * The page (loaded by entry.ts): builds the UI around one EmulatorClient and publishes the automation API as
 * `window.snap86`. Query parameters: `image=<url>` boots that image, `memory=<MiB>`,
 * `autoboot=0` waits for the user (or a script) instead of booting the built-in guest, `boot=cold`
 * boots it from the BIOS instead of resuming or starting from its published state (src/page/start).
 */
import "./ui/styles.css";
import { EmulatorClient } from "./emulator-client";
import { createAutomationApi, type Snap86Api } from "./automation";
import { DEFAULT_CONFIG, MEMORY_CHOICES_MIB, userDrives, type ImageSource, type MachineConfig } from "../protocol/machine-config";
import { GUEST_NAMES, type GuestName } from "../protocol/guest-manifest";
import { ScreenCanvas } from "./ui/screen-canvas";
import { showError, showFailure, showLazy, showNotice, showProgress, showState, showStats } from "./ui/status-line";
import { requestPersistence, showDiskInfo, showStorage } from "./ui/disk-panel";
import { ResetController } from "./reset-controller";
import { OwnMachine } from "./own-machine";
import { isOwnMachine } from "../protocol/checkpoint-data";
import { enableAgain } from "./ui/dom";
import { Standby, standbyFits } from "./standby";
import { watchStorage } from "./ui/storage-notice";
import { errorMessage } from "./ui/checkpoint-format";
import { StartGate } from "./start-gate";
import { resumeOrBoot, type StartHost } from "./start/start-machine";
import { LastScreenKeeper, showLastScreen } from "./start/last-screen";
import { mountImagePicker } from "./ui/image-picker";
import { mountDriveList } from "./ui/drive-list";
import { mountKeptImages } from "./ui/kept-images";
import { rememberMachine } from "./last-machine";
import { BootProgress } from "./ui/boot-progress";
import { showHintWhileFocused } from "./ui/focus-release";
import { mountTouchKeys } from "./ui/touch-keys";
import { createSerialTerminal, terminalText } from "./ui/serial-terminal";
import { mountClipboard } from "./ui/clipboard";
import { mountFilesPanel } from "./ui/files-panel";
import { mountNetworkPanel } from "./ui/network-panel";

declare global {
  interface Window {
    snap86: Snap86Api;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const client = new EmulatorClient();
const screen = new ScreenCanvas($<HTMLCanvasElement>("screen"), (codes) => void client.remote.machine.keyboardInput(codes));
const lastScreen = new LastScreenKeeper(screen.canvas, () => client.state === "running");
const terminal = createSerialTerminal($("terminal"), (data) => void client.remote.machine.serialInput(data));
showHintWhileFocused(screen.canvas, $("screen-hint"));
showHintWhileFocused($("terminal"), $("terminal-hint"));
mountTouchKeys($("touch-keys"), screen.canvas, {
  scancodes: (codes) => void client.remote.machine.keyboardInput(codes),
  serial: (data) => void client.remote.machine.serialInput(data),
});

mountClipboard({
  canvas: screen.canvas,
  serial: (data) => void client.remote.machine.serialInput(data),
  scancodes: (codes) => client.remote.machine.keyboardInput(codes),
  terminalText: () => terminalText(terminal),
  onNotice: (message) => showNotice(message),
});
const networkPanel = mountNetworkPanel($("files-pane"), {
  setEnabled: (enabled) => client.remote.network.setEnabled(enabled),
  onError: (message) => showError(message),
});
const filesPanel = mountFilesPanel($("files-pane"), {
  files: () => client.remote.files,
  run: (command) => window.snap86.runWithStatus(command),
  list: () => client.remote.files.list(),
  onError: (message) => showError(message),
  onNotice: (message) => showNotice(message),
});

/** The built-in guest: ?guest=, else the one this browser ran last (so a reload resumes its session). */
const guestSelect = $<HTMLSelectElement>("guest");
const pickGuest = (name: string | null | undefined) => {
  if (name && GUEST_NAMES.includes(name as GuestName)) guestSelect.value = name;
};
pickGuest(localStorage.getItem("snap86.guest"));
pickGuest(params.get("guest"));

const memory = $<HTMLSelectElement>("memory");
const initialMemory = Number(params.get("memory")) || DEFAULT_CONFIG.memoryMiB;
for (const mib of new Set([...MEMORY_CHOICES_MIB, initialMemory].sort((a, b) => a - b))) {
  memory.add(new Option(mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`, String(mib), false, mib === initialMemory));
}

let pickedFile: File | undefined;
/** Whether the machine runs the built-in guest, whose boot reports its stages. */
let builtInGuest = false;
const bootProgress = new BootProgress(document.getElementById("boot-progress"));

const standbyBox = $<HTMLInputElement>("standby");
const standbyParam = params.get("standby");
const deviceMemory = (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
standbyBox.checked = standbyParam !== null ? standbyParam === "1" : standbyFits(initialMemory, deviceMemory);
const standby = new Standby(standbyBox.checked, (status, error) => {
  $("standby-status").textContent = status === "off" ? "" : status;
  if (error) showNotice(`Standby machine could not be prepared: ${error}`);
});
const resets = new ResetController(client, standby);
resets.onClear(() => terminal.reset());
// A user's own machine: its reset point and its resume (src/page/own-machine.ts).
const own = new OwnMachine({ client, resets, resetButton: $<HTMLButtonElement>("reset"), notice: showNotice, error: showError, boot: (c) => boot(c), resume: params.get("resume") !== "0" });
resets.onResetPoint(() => own.showResetAvailability());
standbyBox.addEventListener("change", () => void standby.setEnabled(standbyBox.checked).then(() => resets.refreshStandby()));

/**
 * The first time a machine config reaches the shell, its clean state becomes the golden
 * checkpoint that Reset returns to (and the standby is restored from).
 */
async function prepareGolden(config: MachineConfig): Promise<void> {
  if (userDrives(config).length > 0) return own.findResetPoint(config);
  try {
    await window.snap86.waitForShell().finally(() => bootProgress.finish());
    if (config.disk === "secure") return;
    const golden = await client.remote.reset.ensureGolden();
    resets.goldenReady(config, golden.id);
    enableAgain($<HTMLButtonElement>("reset"));
    $<HTMLButtonElement>("reset").disabled = false;
  } catch (e) {
    if (client.state === "running") showNotice(`The clean booted state could not be saved: ${errorMessage(e)}`);
  }
}

async function boot(config: MachineConfig): Promise<void> {
  showError(undefined);
  showNotice(undefined);
  networkPanel.asked(config.network);
  if (!config.image) {
    pickGuest(config.guest ?? "busybox");
    localStorage.setItem("snap86.guest", guestSelect.value);
  }
  // Cleared when the new machine starts loading: a user's image that fails its checks leaves
  // the running machine, and its terminal, as they were.
  const clearOnStart = client.on((event) => {
    if (event.type === "state" && event.state === "loading") {
      terminal.reset();
      clearOnStart();
    }
  });
  try {
    await client.remote.machine.boot(config);
  } catch (e) {
    showFailure(e);
    throw e;
  } finally {
    clearOnStart();
  }
  builtInGuest = userDrives(config).length === 0;
  resets.machineStarted(config);
  rememberMachine(config);
  if (builtInGuest) bootProgress.start();
  void prepareGolden(config);
}

const secure = $<HTMLInputElement>("disk-secure");
secure.checked = params.get("secure") === "1";

function currentConfig(image?: ImageSource): MachineConfig {
  return {
    ...DEFAULT_CONFIG,
    memoryMiB: Number(memory.value),
    disk: secure.checked ? "secure" : "persistent",
    network: networkPanel.config(),
    guest: guestSelect.value as GuestName,
    ...(image ? { image } : {}),
  };
}

client.on((event) => {
  switch (event.type) {
    case "serial":
      terminal.write(event.data);
      break;
    case "automation":
      bootProgress.feed(event.data);
      break;
    case "screen":
      screen.draw(event.frame);
      lastScreen.changed();
      break;
    case "progress":
      showProgress(event.progress);
      break;
    case "stats":
      showStats(event.stats);
      void showStorage();
      break;
    case "disk":
      showDiskInfo(event.disk);
      break;
    case "lazy":
      showLazy(event.status);
      break;
    case "network":
      networkPanel.show(event.status, event.origin);
      if (event.origin === "start") void filesPanel.refresh();
      break;
    case "notice":
      if (event.level === "error") showError(event.message);
      else showNotice(event.message);
      break;
    case "state": {
      showState(event.state);
      if (event.state === "off" || event.state === "error") bootProgress.finish();
      if (event.error) showFailure(event.error);
      const on = event.state === "running" || event.state === "paused";
      $("power").textContent = on || event.state === "loading" ? "Power off" : "Power on";
      $<HTMLButtonElement>("pause").disabled = !on;
      $("pause").textContent = event.state === "paused" ? "Resume" : "Pause";
      $<HTMLButtonElement>("reboot").disabled = !on;
      if (!on) showDiskInfo(undefined);
      if (event.state === "running") void filesPanel.refresh();
      // A user's machine resets to the reset point its user chose, if any.
      own.showResetAvailability();
      break;
    }
  }
});

const togglePower = () => (client.state === "off" || client.state === "error" ? boot(currentConfig()) : client.remote.machine.powerOff());
const togglePause = () => (client.state === "paused" ? client.remote.machine.resume() : client.remote.machine.pause());
$("power").addEventListener("click", () => void togglePower().catch(() => undefined));
$("pause").addEventListener("click", () => void togglePause());
const reboot = async () => {
  await client.remote.machine.reboot();
  if (!builtInGuest) return;
  bootProgress.start();
  await window.snap86.waitForShell().catch(() => undefined);
  bootProgress.finish();
};
$("reboot").addEventListener("click", () => void reboot());
const reset = () => resets.reset().catch((e: unknown) => showFailure(e));
$("reset").addEventListener("click", () => void reset());

$("disk-wipe").addEventListener("click", () => void client.remote.disk.wipe().catch((e: unknown) => showFailure(e)));
// Another guest is another machine: switching boots it (or resumes its autosave at the next reload).
guestSelect.addEventListener("change", () => {
  if (client.state !== "off") void boot(currentConfig()).catch(() => undefined);
});
// Switching where writes go needs a fresh disk, so the machine restarts in the new mode.
secure.addEventListener("change", () => {
  if (client.state === "running" || client.state === "paused") void boot(currentConfig()).catch(() => undefined);
});
// Another tab's newer version closes this tab's storage: say so, and save nothing more.
const storageSuperseded = watchStorage(() => void client.remote.machine.setAutosaveInterval(0));
// Last chance to get the guest's writes into IndexedDB before the tab goes away.
let unloading = false;
window.addEventListener("pagehide", (e) => {
  unloading = !e.persisted;
  void client.remote.disk.flush();
  lastScreen.leaving();
  if (!unloading) return;
  // Gone for good: a last session save, then the guest stops (docs/continuous-save.md).
  if (client.state === "running" && !secure.checked && !storageSuperseded()) void client.remote.checkpoints.take({ autosave: true }).catch(() => undefined);
  void client.remote.machine.leaving().catch(() => undefined);
  standby.abandon();
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "hidden" || storageSuperseded()) return;
  void client.remote.disk.flush();
  lastScreen.leaving();
  // Hidden may be the page's last moment (a close may follow): save; when unloading, pagehide did.
  if (client.state === "running" && !secure.checked && !unloading) void client.remote.checkpoints.take({ autosave: true }).catch(() => undefined);
});
void requestPersistence();
void showStorage();

const imagePicker = mountImagePicker($<HTMLSelectElement>("image-kind"), $<HTMLOutputElement>("image-detected"));
$<HTMLInputElement>("image-file").addEventListener("change", (e) => {
  pickedFile = (e.target as HTMLInputElement).files?.[0];
  if (pickedFile) $<HTMLInputElement>("image-url").value = "";
  if (pickedFile) keptImages.clear();
  $("image-boot").textContent = pickedFile ? `Boot ${pickedFile.name}` : "Boot image";
  void imagePicker.update({ file: pickedFile });
});
// On every keystroke, not on change: a change fires on blur, i.e. as Boot image is pressed.
$<HTMLInputElement>("image-url").addEventListener("input", (e) => {
  const url = (e.target as HTMLInputElement).value.trim();
  if (url) pickedFile = undefined;
  if (url) keptImages.clear();
  void imagePicker.update({ url });
});

/** The image in the form: a URL, or the picked file (read by slices in the worker, never here). */
async function formImage(): Promise<ImageSource | undefined> {
  const url = $<HTMLInputElement>("image-url").value.trim();
  if (url) return { kind: imagePicker.kind(), url };
  if (!pickedFile) return keptImages.chosen() ? { kind: imagePicker.kind(), stored: keptImages.chosen()! } : undefined;
  await imagePicker.update({ file: pickedFile }); // the content decides, as shown, unless a drive was chosen
  return { kind: imagePicker.kind(), name: pickedFile.name, file: pickedFile };
}

const keptImages = mountKeptImages($<HTMLSelectElement>("image-kept"), $<HTMLButtonElement>("image-forget"), (name) => {
  $<HTMLInputElement>("image-url").value = "";
  pickedFile = undefined;
  $("image-boot").textContent = name ? `Boot ${name}` : "Boot image";
  void imagePicker.update({});
});
client.on((event) => {
  // A file just kept (or booted) shows up in the list.
  if (event.type === "notice" || (event.type === "state" && event.state === "running")) void keptImages.refresh();
});

function clearImageForm(): void {
  $<HTMLFormElement>("image-form").reset();
  pickedFile = undefined;
  $("image-boot").textContent = "Boot image";
  void imagePicker.update({});
}

const driveList = mountDriveList($<HTMLOListElement>("drive-list"));
$("image-add").addEventListener("click", () => {
  void formImage().then((image) => {
    if (!image) return showError("Choose an image file or enter its URL first");
    showError(undefined);
    driveList.add(image);
    clearImageForm();
  });
});

$("image-form").addEventListener("submit", (e) => {
  e.preventDefault();
  void (async () => {
    const image = await formImage();
    const drives = [...driveList.drives(), ...(image ? [image] : [])];
    if (drives.length === 0) return showError("Choose an image file or enter its URL first");
    await boot(drives.length === 1 ? currentConfig(drives[0]) : { ...currentConfig(), drives }).catch(() => undefined);
  })();
});

document.addEventListener("keydown", (e) => {
  if (!e.altKey || e.target === screen.canvas) return;
  const action = { p: togglePower, r: reboot, x: reset, " ": togglePause }[e.key.toLowerCase()];
  if (action) {
    e.preventDefault();
    void action();
  }
});

// --- checkpoint panel (src/page/ui/checkpoint-panel.ts) ---
import { mountCheckpointPanel } from "./ui/checkpoint-panel";
import { renderThumbnail } from "./ui/thumbnail";
mountCheckpointPanel(client, {
  thumbnail: async () => renderThumbnail(screen.canvas),
  onError: showError,
  onNotice: showNotice,
  onResetPoint: (point) => resets.resetPointSet(point),
  onImported: () => void keptImages.refresh(),
});
// --- end checkpoint panel ---

// --- share links (src/page/ui/share-dialog.ts) ---
import { mountSharePanel } from "./ui/share-dialog";
// A link of a user's machine booted it (by the page or the API): Reset, autosave and a reload follow that machine.
const followOwn = (config: MachineConfig) => ((builtInGuest = false), own.started(config));
const sharePanel = mountSharePanel(client, { onError: showError, onNotice: showNotice, config: () => currentConfig(), onOwnMachine: followOwn });
// --- end share links ---

// One start at a time: the page's own (below) and the API's boots join or refuse each other.
const starts = new StartGate();
window.snap86 = createAutomationApi(
  client,
  (asked) => starts.boot(asked, boot, DEFAULT_CONFIG),
  resets,
  () => renderThumbnail(screen.canvas),
  () => starts.pending,
  followOwn,
);

const autosaveParam = params.get("autosave");
if (autosaveParam !== null) void client.remote.machine.setAutosaveInterval(Number(autosaveParam));

const imageParam = params.get("image");
if (location.hash.startsWith("#share")) {
  // A share link opens the shared VM instead of resuming or booting this browser's own session.
  void starts.run(() => sharePanel.openLink(location.href).then(() => undefined), currentConfig());
} else if (imageParam) {
  const config = currentConfig({ kind: "auto", url: imageParam });
  void starts.run(() => boot(config), config).catch(() => undefined);
} else if (params.get("autoboot") !== "0") {
  const host: StartHost = {
    client,
    params,
    config: () => currentConfig(),
    boot,
    resumeOwn: (config) => own.resume(config),
    resumed: (config) => {
      builtInGuest = true;
      void prepareGolden(config);
    },
    notice: showNotice,
    error: showError,
  };
  // The screen as it was left, at once, while the session resumes (a resume redraws it).
  if (params.get("boot") !== "cold" && !secure.checked) void showLastScreen(screen.canvas);
  void starts.run(() => resumeOrBoot(host), currentConfig()).catch(() => undefined);
}
