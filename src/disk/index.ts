/**
 * The disk layer: copy-on-write overlays in IndexedDB over a lazily fetched, verified base image.
 *   base-image.ts   HttpBaseImage (Range + sha256 per block + host cache), MemoryBaseImage (user's file)
 *   db.ts           IndexedDB schema
 *   host-cache.ts   prune cached blocks of images no longer used
 *   layer-store.ts  layers: create / freeze / createChild / flatten / delete / list
 *   chain.ts        reads through frozen ancestors to the base
 *   overlay.ts      the live writable layer: sync-visible writes, write-behind, flush barrier, secure mode
 *   open-overlay.ts open a layer for writing under its Web Lock
 *   v86-disk.ts     the object v86 takes as hda/cdrom/fda
 *   storage.ts      persist(), estimate(), Web Locks
 *   wipe.ts         drop a session overlay, continue on a fresh child
 *   image-by-id.ts a user's image opened from its id alone (to share or export its blocks)
 *   kept-file.ts    a user's picked file kept in IndexedDB (KeptFileImage), read back without it (StoredImage)
 *   deletions.ts    deletions of session data a session waits for and reports
 *   stats.ts        numbers for the UI
 */
export * from "./base-image";
export * from "./chain";
export * from "./db";
export * from "./deletions";
export * from "./errors";
export * from "./host-cache";
export * from "./image-by-id";
export * from "./kept-file";
export * from "./layer-store";
export * from "./open-overlay";
export * from "./overlay";
export * from "./stats";
export * from "./storage";
export * from "./v86-disk";
export * from "./wipe";
