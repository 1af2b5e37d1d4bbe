export const I386_MAGIC: string;
export const I386_MASK: string;
export function tinyI386Program(): Buffer;
export function runsI386(): boolean;
export function ensureI386Exec(log?: (msg: string) => void): "native" | "qemu";
