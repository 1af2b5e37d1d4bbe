/** The files facet: the running machine's host folder (see src/protocol/files.ts). */
import type { FilesFacet, HostFile } from "../protocol";
import { hostFolderPath } from "../protocol/files";
import { Snap86Error } from "../protocol/errors";
import { HostFolder } from "../v86/host-folder";
import type { MachineOwner } from "./machine-owner";

export class FilesFacetImpl implements FilesFacet {
  constructor(
    private readonly m: MachineOwner,
    /** Moves the read bytes to the page instead of copying them (Comlink.transfer in the worker). */
    private readonly markTransfer: <T>(value: T, transfer: Transferable[]) => T = (v) => v,
  ) {}

  put(path: string, data: Uint8Array): Promise<HostFile> {
    return this.folder().put(hostFolderPath(path), data);
  }

  async get(path: string): Promise<Uint8Array> {
    const data = await this.folder().get(hostFolderPath(path));
    return this.markTransfer(data, [data.buffer]);
  }

  remove(path: string): Promise<boolean> {
    return this.folder().remove(hostFolderPath(path));
  }

  list(): HostFile[] {
    return this.m.emulator?.fs9p ? this.folder().list() : [];
  }

  private folder(): HostFolder {
    const fs = this.m.emulator?.fs9p;
    if (!fs) throw new Snap86Error("machine-off", "The host folder needs a running machine: boot it first");
    return new HostFolder(fs);
  }
}
