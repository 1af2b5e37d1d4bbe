export declare const CHROMIUM_ARGS: string[];
export declare const TEST_ARGS: string[];
export declare function chromiumPath(): string;
export declare function launchOptions(options?: { liftoff?: boolean }): { executablePath: string; args: string[] };
export declare function testLaunchOptions(): { executablePath: string; args: string[] };
