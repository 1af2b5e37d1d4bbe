export const MODULE_SIG_MAGIC: string;
export const MODULE_SIG_STRUCT_SIZE: number;
export function stripModuleSignature<T extends Uint8Array>(buf: T): { data: T; stripped: boolean };
