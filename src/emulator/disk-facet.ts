/**
 * The disk facet: the built-in guest's layered disk (see src/protocol/disk.ts), or for a user's
 * image its first writable drive (info), all of them for a wipe.
 */
import type { DiskFacet, DiskInfo, MachineFacet } from "../protocol";
import type { MachineOwner } from "./machine-owner";
import { Snap86Error } from "../protocol/errors";

export class DiskFacetImpl implements DiskFacet {
  constructor(
    private readonly m: MachineOwner,
    private readonly machine: Pick<MachineFacet, "reboot">,
  ) {}

  info(): DiskInfo | undefined {
    return (this.m.disk ?? this.m.userDrives[0])?.info();
  }

  async flush(): Promise<void> {
    await this.m.disk?.flush();
    for (const d of this.m.userDrives) await d.flush();
  }

  async wipe(): Promise<void> {
    const m = this.m;
    const emulator = m.emulator;
    const disk = m.disk;
    if (emulator && !disk && m.userDrives.length > 0) return this.wipeUserDrives();
    if (!emulator || !disk) throw new Snap86Error("machine-off", "Wipe needs a machine with a writable disk running");
    // After a session save under way: it freezes the layer this replaces.
    m.autosave.stop();
    await m.serialize(async () => {
      await emulator.stop();
      await disk.wipe();
      m.wiped = true;
      // Autosaves froze layers of the session being wiped: they go with it (and their layers), and
      // so do layers frozen by a capture that never finished (a tab closed while it was written).
      await m.wipe.forgetSession([disk], m.machineKey());
      await m.wipe.finish([disk]);
    });
    m.emit({ type: "disk", disk: disk.info() });
    await this.machine.reboot();
  }

  /** A user's image back as it was served or picked: its drives' overlays dropped, then a cold boot. */
  private async wipeUserDrives(): Promise<void> {
    const m = this.m;
    const emulator = m.emulator!;
    m.autosave.stop();
    await m.serialize(async () => {
      await emulator.stop();
      for (const d of m.userDrives) await d.wipe();
      // As for the built-in guest: the session's autosaves went with its disk (a reload must not
      // resume them); its named checkpoints and their layers stay.
      if (m.checkpointsOff() === undefined) {
        await m.wipe.forgetSession(m.userDrives, m.machineKey());
        await m.wipe.finish(m.userDrives);
      }
    });
    m.emit({ type: "disk", disk: m.userDrives[0].info() });
    await this.machine.reboot();
  }
}
