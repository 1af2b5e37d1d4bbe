/** Entry of the emulator worker: exposes its facets (src/protocol/emulator.ts) through Comlink. */
import * as Comlink from "comlink";
import { createEmulatorApi } from "../emulator/api";
import { installTransferHandlers } from "../protocol/transfer";

installTransferHandlers();

Comlink.expose(createEmulatorApi(Comlink.transfer));
