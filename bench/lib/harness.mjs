// The one harness of the browser benches: builds and serves the app, launches Chromium, runs the
// bench's body, always tears down (after an error and on Ctrl-C too: the preview server runs in
// its own process group and would outlive us) and prints one JSON line last (report.mjs).
//
//   await runBench("boot", async ({ browser, appUrl, bootFreshPage, note }) => ({ field: 1 }));
import { chromium } from "playwright-core";
import { launchOptions } from "../../scripts/lib/chromium.mjs";
import { startApp } from "./app-server.mjs";
import { printConditions, printResult, startConditions } from "./report.mjs";
import { bootFreshPage } from "./vm.mjs";

const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Cleanups run once, newest first (the browser closes before the server it talks to stops). */
function teardownStack() {
  const steps = [];
  let done;
  const run = async () => {
    for (const step of steps.reverse()) {
      try {
        await step();
      } catch (e) {
        console.error(`teardown: ${e?.message ?? e}`);
      }
    }
  };
  return { add: (step) => steps.push(step), run: () => (done ??= run()) };
}

/**
 * @param name     the result line's "bench"
 * @param body     async ({ browser, appUrl, bootFreshPage(config), note(text), prepared }) => fields
 * @param options  prepare: async ({ onTeardown }) => value, run before the app starts (its
 *                 result is `prepared`), for services the preview must know about at start;
 *                 conditionsInLine: false keeps the conditions out of the result line (report.mjs)
 */
export async function runBench(name, body, { prepare, conditionsInLine = true } = {}) {
  const conditions = startConditions();
  printConditions(conditions);
  const teardown = teardownStack();
  // Playwright's own SIGINT handler exits right after closing the browser, before our server stops.
  const onSignal = (signal) => teardown.run().then(() => process.exit(SIGNALS[signal]));
  for (const signal of Object.keys(SIGNALS)) process.on(signal, onSignal);
  try {
    const prepared = prepare ? await prepare({ onTeardown: teardown.add }) : undefined;
    const app = await startApp();
    teardown.add(app.stop);
    // SNAP86_BENCH_LIFTOFF=1: V8's baseline wasm compiler only, as the browser tests run (see
    // scripts/lib/chromium.mjs); the conditions say so. Default: the browser as users have it.
    const liftoff = process.env.SNAP86_BENCH_LIFTOFF === "1";
    const browser = await chromium.launch({ ...launchOptions({ liftoff }), handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
    if (liftoff) conditions.wasm = "liftoff-only";
    teardown.add(() => browser.close());
    conditions.chromium = browser.version();
    const fields = await body({
      browser,
      appUrl: app.url,
      bootFreshPage: (config) => bootFreshPage(browser, app.url, config),
      note: (text) => console.error(text),
      prepared,
    });
    await teardown.run();
    printResult(name, fields, conditions, { inline: conditionsInLine });
  } catch (e) {
    await teardown.run();
    console.error(e);
    process.exitCode = 1;
  } finally {
    for (const signal of Object.keys(SIGNALS)) process.off(signal, onSignal);
  }
}
