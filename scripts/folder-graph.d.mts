export function folderGraph(): Map<string, Set<string>>;
export function findCycle(edges: Map<string, Set<string>>): string[] | undefined;
