export const BROWSER_PACKAGES: string[];
export const S3_PACKAGES: string[];
export const DEBIAN_GUEST_PACKAGES: string[];
export interface SystemSetupInput {
  wanted: string[];
  installed: Set<string>;
  foreignArchs: string[];
  needGuestArch: boolean;
  isRoot: boolean;
  hasSudo: boolean;
}
export type SystemSetupPlan = { commands: string[][]; missing?: string[]; addArch?: boolean; error?: undefined } | { error: string; commands?: undefined };
export function planSystemSetup(input: SystemSetupInput): SystemSetupPlan;
export function ensureSystemPackages(options: { guestPackages: string[] | null; debianGuest?: boolean; browser: boolean; s3?: boolean; extra?: string[]; log?: (line: string) => void }): void;
