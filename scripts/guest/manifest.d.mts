import type { GuestFile, GuestManifest, GuestPackage } from "../../src/protocol/guest-manifest";

export const MANIFEST_NAME: string;
export interface BuilderSource {
  rel: string;
  text: Uint8Array;
}
export function builderSources(scriptsDir: string): BuilderSource[];
export function computeInputsHash(packages: readonly GuestPackage[], sources: readonly BuilderSource[]): string;
export function sha256Hex(data: Uint8Array | string): string;
export function fileEntry(path: string, data: Uint8Array): GuestFile;
export function buildManifest(fields: Omit<GuestManifest, "schema" | "name">): GuestManifest;
export function staleReason(dir: string, manifest: GuestManifest | null, inputsHash: string): string | null;
export function readManifest(dir: string): GuestManifest | null;
