/** Everything the emulator worker tells the page, on one subscription. */
import type { CheckpointInfo, CheckpointPhase, LazyStatus } from "./checkpoints";
import type { DiskInfo } from "./disk";
import type { MachineKind, NoticeLevel, Progress, RunState, ScreenFrame, Stats } from "./machine";
import type { WireError } from "./errors";
import type { NetworkStatus } from "./network";

export type EmulatorEvent =
  /** The user's serial terminal (ttyS0). */
  | { type: "serial"; data: string }
  /** The automation channel (ttyS1 of the built-in guest): never shown, read by run(). */
  | { type: "automation"; data: string }
  | { type: "screen"; frame: ScreenFrame }
  /** `machine`: what runs, once there is a machine (absent when off). */
  /** `machineKey`: the running machine's identity (CheckpointInfo.machineKey of its checkpoints). */
  | { type: "state"; state: RunState; error?: WireError; machine?: MachineKind; machineKey?: string }
  | { type: "progress"; progress: Progress }
  | { type: "stats"; stats: Stats }
  | { type: "disk"; disk: DiskInfo }
  | { type: "notice"; level: NoticeLevel; message: string }
  | { type: "checkpoint"; phase: CheckpointPhase; id: string; pauseMs?: number; done?: number; total?: number; error?: WireError }
  | { type: "checkpoints"; list: CheckpointInfo[] }
  | { type: "lazy"; status: LazyStatus }
  | { type: "share"; phase: "upload" | "download" | "read-image"; done: number; total: number }
  /** `origin`: a machine started with this status, or the cable was switched. */
  | { type: "network"; status: NetworkStatus; origin: "start" | "set" };

export type EventListener = (event: EmulatorEvent) => void;

