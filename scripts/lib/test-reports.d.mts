export interface Counts {
  passed: number;
  failed: number;
}
export function readReport(path: string): unknown;
export function vitestCounts(report: unknown): Counts;
export function playwrightCounts(report: unknown): Counts;
export function vitestFailures(report: unknown, root?: string): string[];
export function playwrightFailures(report: unknown): string[];
export function sumCounts(counts: readonly Counts[]): Counts;
export function errorGist(message: unknown): string;
