/** Working sets of checkpoints (pages the guest touched first after them), remembered best effort. */
import { WorkingSetStore } from "../lazy/working-set-store";

export class WorkingSets {
  #store: Promise<WorkingSetStore> | undefined;

  /** A lost working set only costs a restore its prefetch order: failures are dropped. */
  async remember(id: string, pages: number[]): Promise<void> {
    try {
      this.#store ??= WorkingSetStore.open();
      await (await this.#store).merge(id, pages);
    } catch {
      this.#store = undefined;
    }
  }
}
