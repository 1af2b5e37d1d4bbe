/**
 * The machine a reload brings back when it was the user's own image: its drives (URLs, and picked
 * files by the id of their copy kept in IndexedDB) and its memory size, in localStorage. The
 * reload resumes that machine's newest session save (src/page/own-machine.ts), or boots it again
 * on its disk writes when it has none (the overlays are kept per image). Booting the built-in
 * guest, or an image that cannot come back (bytes handed to the API), forgets it.
 */
import { fileImageId, userDrives, type ImageSource, type MachineConfig } from "../protocol/machine-config";

const KEY = "snap86.ownMachine";

export interface OwnMachine {
  memoryMiB: number;
  drives: ImageSource[];
}

function again(source: ImageSource): ImageSource | undefined {
  const kind = source.kind ?? "auto";
  if ("url" in source) return { kind, url: source.url };
  if ("file" in source) return { kind, stored: fileImageId(source.name, source.file) };
  if ("stored" in source) return { kind, stored: source.stored };
  return undefined;
}

/** Call after a boot succeeded. */
export function rememberMachine(config: MachineConfig): void {
  const wanted = userDrives(config);
  const drives = wanted.map(again).filter((d): d is ImageSource => d !== undefined);
  try {
    if (drives.length === 0 || drives.length < wanted.length) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, JSON.stringify({ memoryMiB: config.memoryMiB, drives } satisfies OwnMachine));
  } catch {
    // Storage refused (private mode, full): a reload then starts the built-in guest, as before.
  }
}

export function rememberedMachine(): OwnMachine | undefined {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "null") as OwnMachine | null;
    return saved && Array.isArray(saved.drives) && saved.drives.length > 0 ? saved : undefined;
  } catch {
    return undefined;
  }
}
