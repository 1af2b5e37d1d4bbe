// The opening side's network for the share benches: CDP throttling to 50 Mbit/s and 20 ms latency
// (bench:share, bench:images), applied to a fresh context's page, which its workers' fetches follow.
const MBIT = 1_000_000 / 8;
export const SHARE_THROTTLE = { offline: false, latency: 20, downloadThroughput: 50 * MBIT, uploadThroughput: 50 * MBIT };

/**
 * A fresh browser context (an empty profile) and its page, throttled as above unless
 * SNAP86_BENCH_NO_THROTTLE=1 (only to check that the throttle reaches the workers' fetches).
 */
export async function throttledPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  if (process.env.SNAP86_BENCH_NO_THROTTLE !== "1") await cdp.send("Network.emulateNetworkConditions", SHARE_THROTTLE);
  return { context, page };
}
