import type { DriveKind } from "../../src/protocol/machine-config";
export const TEST_IMAGE_PACKAGES: string[];
export const TEST_IMAGES_DIR: string;
export interface TestImage {
  name: string;
  kind: DriveKind;
  /** Text the guest's screen shows once it booted (the serial line too where `serial`). */
  shows: string;
  /** What the guest does with the CPU: stays in real mode, protected mode, enables paging, or paging with PAE. */
  mode: "real" | "protected" | "paging" | "pae";
  serial?: boolean;
  size: number;
  sha256: string;
}
export const TEST_IMAGES: Omit<TestImage, "size" | "sha256">[];
export function buildTestImages(options?: { log?: (line: string) => void }): TestImage[];
