import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, type MachineConfig } from "../../../src/protocol/machine-config";
import { StartGate } from "../../../src/page/start-gate";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const pageConfig: MachineConfig = { ...DEFAULT_CONFIG, disk: "persistent" };

describe("StartGate", () => {
  it("an API boot during the page's start joins it instead of starting a second machine", async () => {
    const gate = new StartGate();
    const page = deferred();
    const boots: MachineConfig[] = [];
    const started = gate.run(() => page.promise, pageConfig);
    const joined = [gate.boot({}, async (c) => void boots.push(c), DEFAULT_CONFIG), gate.boot({ memoryMiB: 128 }, async (c) => void boots.push(c), DEFAULT_CONFIG)];
    expect(joined[0]).toBe(started);
    expect(joined[1]).toBe(started);
    page.resolve();
    await Promise.all(joined);
    expect(boots).toEqual([]);
  });

  it("refuses a boot that asks for another machine while one starts, with code busy", async () => {
    const gate = new StartGate();
    const page = deferred();
    void gate.run(() => page.promise, pageConfig);
    await expect(gate.boot({ memoryMiB: 256 }, async () => undefined, DEFAULT_CONFIG)).rejects.toMatchObject({ code: "busy" });
    page.resolve();
  });

  it("boots with the defaults and the settings asked for once nothing is starting, and is pending meanwhile", async () => {
    const gate = new StartGate();
    const boots: MachineConfig[] = [];
    const booting = deferred();
    const boot = gate.boot({ memoryMiB: 256 }, async (c) => {
      boots.push(c);
      await booting.promise;
    }, DEFAULT_CONFIG);
    expect(gate.pending).toBeDefined();
    booting.resolve();
    await boot;
    expect(boots).toEqual([{ ...DEFAULT_CONFIG, memoryMiB: 256 }]);
    expect(gate.pending).toBeUndefined();
  });

  it("pending never rejects: a failed start is reported by its own caller", async () => {
    const gate = new StartGate();
    const failing = gate.run(() => Promise.reject(new Error("no disk")), pageConfig);
    await expect(gate.pending).resolves.toBeUndefined();
    await expect(failing).rejects.toThrow("no disk");
  });
});
