import type { Page } from "playwright-core";
import type { Viewport } from "./ui-audit.mjs";

export function afterLayout(page: Page): Promise<void>;
export function prepareScene(page: Page): Promise<void>;
export function shoot(page: Page, viewport: Viewport, path: string): Promise<string>;
export function viewport(name: string): Viewport;
