export const KALLSYMS_COMMAND: string;
export function parseKernelRngLayout(output: string): { reseedFromSysenter: number; reseedBytes: number } | null;
export function readKernelRngLayout(guestDir: string): { reseedFromSysenter: number; reseedBytes: number };
