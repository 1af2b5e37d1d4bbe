/** Entry of the emulator worker: exposes its facets (src/protocol/emulator.ts) through Comlink. */
import * as Comlink from "comlink";
import { createEmulatorApi } from "../emulator/api";

Comlink.expose(createEmulatorApi(Comlink.transfer));
