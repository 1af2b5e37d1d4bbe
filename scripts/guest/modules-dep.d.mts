export function moduleFileName(path: string): string;
export function normalizeModuleName(name: string): string;
export function parseModulesDep(text: string): Map<string, string[]>;
export function parseModulesBuiltin(text: string): Set<string>;
export function resolveLoadOrder(depMap: Map<string, string[]>, wanted: readonly string[], builtin?: ReadonlySet<string>): string[];
