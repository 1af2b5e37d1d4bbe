export function parseAptShow(text: string): Record<string, string>[];
export function dependsNames(depends: string | undefined): string[];
export function debFileName(pkg: { name: string; version: string; arch: string }): string;
