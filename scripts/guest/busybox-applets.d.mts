export function parseListFull(text: string): string[];
export function appletNamesFromBinary(buf: Uint8Array): string[];
export function fallbackAppletPaths(names: readonly string[]): string[];
export const OMITTED_APPLETS: ReadonlySet<string>;
export function appletLinks(paths: readonly string[]): string[];
