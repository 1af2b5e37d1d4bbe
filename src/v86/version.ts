/** The v86 version this build runs; a checkpoint records it because v86's state layout may change. */
import v86Package from "v86/package.json";

export const V86_VERSION: string = v86Package.version;
