/**
 * Comlink transfer handlers every thread installs before it exposes or wraps anything:
 * - "throw" (replaces Comlink's own, which keeps only name/message/stack): a thrown error keeps
 *   its code and detail across every hop (checkpoint-I/O worker → emulator worker → page).
 * - "abort-signal": an AbortSignal passed as an argument becomes a MessagePort; the receiving
 *   thread gets a signal of its own that aborts when the caller's does, with the same reason.
 *   Comlink applies handlers to top-level arguments only, so a signal is always a parameter of
 *   its own, never a field of an options object. The port closes when the signal aborts; a
 *   caller that keeps a signal alive and never aborts it keeps one port open (CancelButton aborts
 *   its signal once the operation has settled, for that reason).
 */
import { transferHandlers, type TransferHandler } from "comlink";
import { fromWireError, toWireError, type WireError } from "./errors";

type Thrown = { value: unknown };
type SerializedThrow = { isError: true; value: WireError } | { isError: false; value: unknown };

let installed = false;

export function installTransferHandlers(): void {
  if (installed) return;
  installed = true;
  const builtIn = transferHandlers.get("throw");
  if (!builtIn) throw new Error("comlink: no built-in throw handler to replace");
  const throwHandler: TransferHandler<Thrown, SerializedThrow> = {
    // Comlink marks thrown values with a private symbol; its own handler knows how to see it.
    canHandle: (value): value is Thrown => builtIn.canHandle(value),
    serialize({ value }) {
      const serialized: SerializedThrow = value instanceof Error ? { isError: true, value: toWireError(value) } : { isError: false, value };
      return [serialized, []];
    },
    deserialize(serialized) {
      throw serialized.isError ? fromWireError(serialized.value) : serialized.value;
    },
  };
  const abortSignalHandler: TransferHandler<AbortSignal, MessagePort> = {
    canHandle: (value): value is AbortSignal => typeof AbortSignal !== "undefined" && value instanceof AbortSignal,
    serialize(signal) {
      const { port1, port2 } = new MessageChannel();
      const send = () => {
        port1.postMessage(toWireError(signal.reason));
        port1.close();
      };
      if (signal.aborted) send();
      else signal.addEventListener("abort", send, { once: true });
      return [port2, [port2]];
    },
    deserialize(port) {
      const controller = new AbortController();
      port.onmessage = (e: MessageEvent<WireError>) => {
        controller.abort(fromWireError(e.data));
        port.close();
      };
      return controller.signal;
    },
  };
  transferHandlers.set("throw", throwHandler as TransferHandler<unknown, unknown>);
  transferHandlers.set("abort-signal", abortSignalHandler as TransferHandler<unknown, unknown>);
}
