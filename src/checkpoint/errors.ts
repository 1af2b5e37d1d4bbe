/** Errors of the checkpoint store, with messages meant for the user as they are. */

/** A manifest or .snap86 file that is malformed, foreign or from an unknown format version. */
export class CheckpointFormatError extends Error {
  override name = "CheckpointFormatError";
}

/** A well-formed checkpoint that this machine cannot restore (other RAM size, v86, ...). */
export class CheckpointIncompatibleError extends Error {
  override name = "CheckpointIncompatibleError";
}

/** Stored bytes that do not match their hash, or a chunk a manifest names that is gone. */
export class CheckpointCorruptError extends Error {
  override name = "CheckpointCorruptError";
  constructor(
    readonly checkpointId: string,
    readonly chunkHash: string,
    detail: string,
  ) {
    super(`checkpoint ${checkpointId} is damaged: chunk ${chunkHash.slice(0, 16)}… ${detail}`);
  }
}
