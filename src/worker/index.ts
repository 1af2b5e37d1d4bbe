/** Entry of the emulator worker: exposes the EmulatorApi to the main thread through Comlink. */
import * as Comlink from "comlink";
import { EmulatorService } from "./emulator-service";

Comlink.expose(new EmulatorService(Comlink.transfer));
