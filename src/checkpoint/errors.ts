/** Errors of the checkpoint store, with messages meant for the user as they are. */
import { Snap86Error } from "../protocol/errors";

/** A manifest or .snap86 file that is malformed, foreign or from an unknown format version. */
export class CheckpointFormatError extends Snap86Error<"checkpoint-format"> {
  override name = "CheckpointFormatError";
  constructor(message: string) {
    super("checkpoint-format", message);
  }
}

/** A well-formed checkpoint that this machine cannot restore (other RAM size, v86, ...). */
export class CheckpointIncompatibleError extends Snap86Error<"checkpoint-incompatible"> {
  override name = "CheckpointIncompatibleError";
  constructor(message: string) {
    super("checkpoint-incompatible", message);
  }
}

/** Stored bytes that do not match their hash, or a chunk a manifest names that is gone. */
export class CheckpointCorruptError extends Snap86Error<"checkpoint-corrupt"> {
  override name = "CheckpointCorruptError";
  constructor(
    readonly checkpointId: string,
    readonly chunkHash: string,
    detail: string,
  ) {
    super("checkpoint-corrupt", `checkpoint ${checkpointId} is damaged: chunk ${chunkHash.slice(0, 16)}… ${detail}`, { detail: { checkpointId } });
  }
}

/** A checkpoint id this browser has no manifest for. */
export function checkpointMissing(id: string): Snap86Error<"checkpoint-missing"> {
  return new Snap86Error("checkpoint-missing", `Checkpoint ${id} does not exist in this browser (deleted, or saved in another browser profile)`, { detail: { checkpointId: id } });
}
