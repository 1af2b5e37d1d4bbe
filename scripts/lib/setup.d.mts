export const ROOT: string;
export function sh(cmd: string, args: string[], options?: object): number;
export interface BackgroundBuild {
  status: number;
  log: string;
  seconds: number;
}
export function runInBackground(args: string[], logName: string): Promise<BackgroundBuild>;
export function awaitBackgroundBuild(build: Promise<BackgroundBuild | null>, what: string): Promise<number | null | "failed">;
export function setup(options?: { browser?: boolean; s3?: boolean; testImages?: boolean; debianInBackground?: boolean }): { debianGuest: Promise<BackgroundBuild | null> };
