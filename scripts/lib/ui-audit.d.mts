import type { Page } from "playwright-core";

export interface Viewport {
  name: string;
  width: number;
  height: number;
}
export const VIEWPORTS: Viewport[];
export const RELEASE_KEY: string;
export interface AxeViolation {
  id: string;
  impact: string | null | undefined;
  help: string;
  targets: string[];
}
export function axeAudit(page: Page): Promise<{ serious: number; critical: number; violations: AxeViolation[] }>;
export function horizontalOverflow(page: Page): Promise<number>;
export function visibleControls(page: Page): Promise<string[]>;
export function tabWalk(page: Page, limit?: number): Promise<string[]>;
export function markerLines(text: string): number;
