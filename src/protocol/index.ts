/** The contracts of the emulator worker's facets and events, for `import type` in one line. */
export type * from "./checkpoints";
export type * from "./disk";
export type * from "./emulator";
export type * from "./events";
export type * from "./files";
export type * from "./network";
export type * from "./machine";
export type * from "./reset";
export type * from "./share";
