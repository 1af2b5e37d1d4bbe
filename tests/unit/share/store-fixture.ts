import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStoreServer, type StoreServerOptions } from "../../../server/store-server.js";

/** A real store on an ephemeral 127.0.0.1 port with a throwaway data dir. */
export interface RunningStore {
  dir: string;
  baseUrl: string;
  stop(): Promise<void>;
}

export async function startStore(options: Partial<StoreServerOptions> = {}): Promise<RunningStore> {
  const dir = await mkdtemp(join(tmpdir(), "snap86-share-test-"));
  const server: Server = createStoreServer({ dir, access: { openWrites: true }, ...options });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    dir,
    baseUrl: `http://127.0.0.1:${port}/store`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
