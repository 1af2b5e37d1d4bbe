/**
 * How the page starts its machine on load: a reload resumes the newest autosave; a first visit
 * (no autosave) starts from the published clean booted state (first-visit.ts); otherwise, or with
 * `?boot=cold`, the guest boots from the BIOS. The user's own image comes back as it was booted.
 * Which way it went is on `<html data-start>` (published | resumed | cold | own-image) and in the
 * notice line, with the reason when the published state could not be used.
 */
import type { EmulatorClient } from "../emulator-client";
import type { MachineConfig } from "../../protocol/machine-config";
import type { GuestName } from "../../protocol/guest-manifest";
import { rememberedMachine } from "../last-machine";
import { errorMessage } from "../ui/checkpoint-format";
import { publishedStart, type PublishedStart } from "./first-visit";

/** Set by the page on every boot of the built-in guest (main.ts). */
const LAST_GUEST_KEY = "snap86.guest";

export type StartKind = "published" | "resumed" | "cold" | "own-image";

export interface StartHost {
  readonly client: EmulatorClient;
  readonly params: URLSearchParams;
  config(): MachineConfig;
  /** The page's full boot (terminal, progress, golden checkpoint). */
  boot(config: MachineConfig): Promise<void>;
  /** The user's own machine back: its newest autosave, else a boot of its drives (src/page/own-machine.ts). */
  resumeOwn(config: MachineConfig): Promise<void>;
  /** A checkpoint or published state now runs the built-in guest: the golden state is prepared. */
  resumed(config: MachineConfig): void;
  notice(message: string | undefined): void;
  error(message: string | undefined): void;
}

function mark(kind: StartKind): void {
  document.documentElement.dataset.start = kind;
  // When the machine began to run (performance.now()): bench:start relates guest time to it.
  document.documentElement.dataset.startedAt = String(Math.round(performance.now()));
}

export async function resumeOrBoot(host: StartHost): Promise<void> {
  const config = host.config();
  const { client, params } = host;
  // Whichever way it starts, the machine needs the guest's manifest, firmware and wasm: fetched
  // while the saved sessions are listed, not after.
  void client.remote.machine.prefetchBoot(config);
  // The user's own image ran last: bring that machine back, never the built-in guest instead.
  const own = rememberedMachine();
  if (own) {
    await host.resumeOwn({ ...config, memoryMiB: own.memoryMiB, drives: own.drives });
    mark("own-image");
    return;
  }
  const cold = params.get("boot") === "cold";
  let why: string | undefined;
  if (config.disk === "persistent" && params.get("resume") !== "0" && !cold) {
    // On what looks like a first visit (no guest ever booted here), asked while the worker lists
    // checkpoints, so neither waits for the other; a reload does not spend requests on it.
    const ask = () => publishedStart((config.guest ?? "busybox") as GuestName, location);
    const firstVisit = localStorage.getItem(LAST_GUEST_KEY) === null;
    const publishedAsked = firstVisit ? ask() : undefined;
    try {
      // After a guest ran here the machine is built while its newest session save is looked for.
      const resumed = await client.remote.checkpoints.resumeSession(config, { expectSave: !firstVisit });
      if (resumed) {
        mark("resumed");
        host.resumed(config);
        host.notice(`Resumed your session as it was at ${new Date(resumed.created).toLocaleTimeString()}.`);
        return;
      }
    } catch (e) {
      host.error(`Could not resume the saved session (${errorMessage(e)}); booting fresh.`);
    }
    const published = await startPublished(host, config, await (publishedAsked ?? ask()));
    if (published === true) return;
    why = published;
  }
  await host.boot(config);
  mark("cold");
  // After the boot, which clears the notice line as it starts.
  if (why) host.notice(`Booting from the BIOS: ${why}.`);
}

/** The first visit's start from the published clean state: true, or why it cannot be used (undefined: none is published). */
async function startPublished(host: StartHost, config: MachineConfig, published: PublishedStart): Promise<true | string | undefined> {
  if (!published.use) {
    // No published state for this guest (the Debian guest has none) is not worth a notice.
    return published.missing ? undefined : `the published clean state was not used because ${published.reason}`;
  }
  try {
    await host.client.remote.share.open(published.link, config, undefined, published.store);
  } catch (e) {
    return `the published clean state could not be opened (${errorMessage(e)})`;
  }
  mark("published");
  localStorage.setItem(LAST_GUEST_KEY, config.guest ?? "busybox");
  // Its golden state is this checkpoint once all of it is stored in the background: the page's
  // golden step (ensureGolden) waits for that instead of asking for a cold boot.
  host.resumed(config);
  return true;
}
