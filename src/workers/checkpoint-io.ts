/** Entry of the checkpoint-I/O worker (contract: src/protocol/checkpoint-io.ts). */
import * as Comlink from "comlink";
import { captureJobs } from "../checkpoint-io/capture";
import { catalogJobs } from "../checkpoint-io/catalog";
import { fileJobs } from "../checkpoint-io/files";
import { loadJobs } from "../checkpoint-io/load";
import { shareJobs } from "../checkpoint-io/share";
import type { CheckpointIoApi } from "../protocol/checkpoint-io";
import { installTransferHandlers } from "../protocol/transfer";

installTransferHandlers();

const api: CheckpointIoApi = { capture: captureJobs, load: loadJobs, catalog: catalogJobs, files: fileJobs, share: shareJobs };
Comlink.expose(api);
