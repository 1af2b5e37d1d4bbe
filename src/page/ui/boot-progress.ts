/**
 * Boot progress after the download: the built-in guest prints `snap86-boot: <stage>` on its
 * automation channel as it boots (scripts/guest/guest-files.mjs), so the page can say where the
 * boot is instead of a bare "running" for the ~15 s until the shell answers. Only moves forward.
 */

export const BOOT_STAGES = ["kernel", "drivers", "disk", "init", "shell"] as const;
export type BootStage = (typeof BOOT_STAGES)[number];

const WORDS: Record<BootStage, string> = {
  kernel: "Starting the Linux kernel",
  drivers: "Loading the disk drivers",
  disk: "Mounting the root disk",
  init: "Starting init and the shells",
  shell: "Waiting for the shell to answer",
};

const STAGE_LINE = /snap86-boot: (\w+)/g;

/** The furthest stage named in `text` (guest output), if any. */
export function furthestStage(text: string): BootStage | undefined {
  let best = -1;
  for (const m of text.matchAll(STAGE_LINE)) best = Math.max(best, BOOT_STAGES.indexOf(m[1] as BootStage));
  return best >= 0 ? BOOT_STAGES[best] : undefined;
}

export function stageText(stage: BootStage): string {
  return `Booting, step ${BOOT_STAGES.indexOf(stage) + 1} of ${BOOT_STAGES.length}: ${WORDS[stage]}…`;
}

/** The line under the toolbar while a cold boot of the built-in guest runs. */
export class BootProgress {
  private stage: BootStage | undefined;
  /** The last bytes seen, so a stage line split across two events is still found. */
  private tail = "";

  constructor(private readonly element: HTMLElement | null) {}

  /** A cold boot began (the download is over; the kernel starts). */
  start(): void {
    this.stage = "kernel";
    this.tail = "";
    this.render();
  }

  /** Guest output on the automation channel. */
  feed(data: string): void {
    if (this.stage === undefined) return;
    this.tail = (this.tail + data).slice(-200);
    const seen = furthestStage(this.tail);
    if (seen && BOOT_STAGES.indexOf(seen) > BOOT_STAGES.indexOf(this.stage)) {
      this.stage = seen;
      this.render();
    }
  }

  /** The shell answered, the boot failed, or the machine went elsewhere (restore, power off). */
  finish(): void {
    this.stage = undefined;
    this.render();
  }

  get current(): BootStage | undefined {
    return this.stage;
  }

  private render(): void {
    if (!this.element) return;
    this.element.hidden = this.stage === undefined;
    const label = this.element.querySelector(".text");
    if (label) label.textContent = this.stage ? stageText(this.stage) : "";
    const bar = this.element.querySelector("progress");
    if (bar && this.stage) {
      bar.max = BOOT_STAGES.length;
      bar.value = BOOT_STAGES.indexOf(this.stage) + 0.5;
    }
    this.element.dataset.stage = this.stage ?? "";
  }
}
