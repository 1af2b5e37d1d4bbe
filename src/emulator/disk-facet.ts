/** The disk facet: the built-in guest's layered disk (see src/protocol/disk.ts). */
import type { DiskFacet, DiskInfo, MachineFacet } from "../protocol";
import type { MachineOwner } from "./machine-owner";
import { Snap86Error } from "../protocol/errors";

export class DiskFacetImpl implements DiskFacet {
  constructor(
    private readonly m: MachineOwner,
    private readonly machine: Pick<MachineFacet, "reboot">,
  ) {}

  info(): DiskInfo | undefined {
    return this.m.disk?.info();
  }

  async flush(): Promise<void> {
    await this.m.disk?.flush();
  }

  async wipe(): Promise<void> {
    const m = this.m;
    const emulator = m.emulator;
    const disk = m.disk;
    if (!emulator || !disk) throw new Snap86Error("machine-off", "Wipe needs the built-in guest running");
    await emulator.stop();
    await disk.wipe();
    m.wiped = true;
    // Autosaves froze layers of the session being wiped: they go with it (and their layers), and
    // so do layers frozen by a capture that never finished (a tab closed while it was written).
    await m.wipe.forgetSession(disk);
    await m.wipe.finish(disk);
    m.emit({ type: "disk", disk: disk.info() });
    await this.machine.reboot();
  }
}
