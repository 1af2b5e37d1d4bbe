export function blockHashes(data: Uint8Array, blockSize: number): string[];
export function blockHashList(data: Uint8Array, blockSize: number): { blockSize: number; sha256: string[] };
