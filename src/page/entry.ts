/**
 * The page's entry. The emulator worker starts first: its code (~500 KB) loads and compiles, and
 * it starts the checkpoint-I/O worker, while the UI's code (main.ts) loads beside it. Started from
 * main.ts, a reload's resume waited ~140 ms for the worker after the UI was built.
 */
import { startEmulatorWorker } from "./emulator-client";

startEmulatorWorker();
void import("./main");
