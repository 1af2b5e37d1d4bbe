// A first visit (fresh profile: no autosave, no golden checkpoint) starts from the guest's clean
// booted state published beside the guest image (scripts/publish-state.mjs), lazily, instead of a
// BIOS boot; it becomes the golden state. A state made from another build is refused with the
// reason shown, and ?boot=cold boots from the BIOS. See src/page/start.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test, expect, vmOf } from "../fixtures/snap86";
import type { Page } from "@playwright/test";

const published = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "public", "guest", "state", "published.json"), "utf8")) as { checkpointId: string; bytes: number };

/**
 * Faults before the shell's first answer, with the pack recorded as the page asks
 * (scripts/published-state/build.ts): 2-3 here alone, 7 beside another test run; without a pack 338.
 * (A pack recorded with another shell line left 15: too close to a loaded machine's count to
 * tell apart here; bench:start reports the bytes.)
 */
const MAX_FAULTS_BEFORE_SHELL = 30;

/** The guest files and published objects the page asked for, in order. */
function watchRequests(page: Page): string[] & { objectBytes: number } {
  const seen = Object.assign([] as string[], { objectBytes: 0 });
  page.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith("/guest/")) seen.push(path);
  });
  page.on("requestfinished", (r) => {
    if (!new URL(r.url()).pathname.startsWith("/guest/state/objects/")) return;
    void r.sizes().then((s) => (seen.objectBytes += s.responseBodySize), () => undefined);
  });
  return seen;
}

test("a first visit starts from the published clean state: no BIOS boot, the shell answers, Reset has the clean state", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests = watchRequests(page);
  await page.goto("/");
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await page.evaluate(() => window.snap86.waitForShell());
  const { faults } = await page.evaluate(() => window.snap86.lazyStatus());
  const bytesBeforeShell = requests.objectBytes;
  await expect(page.locator("html")).toHaveAttribute("data-start", "published");
  // Its objects were read, and neither kernel nor initrd: nothing booted.
  const beforeShell = [...requests];
  // The pack held what the answer needed: a few faults, a small part of the state (issue: ≤ 25 %).
  expect(faults).toBeLessThanOrEqual(MAX_FAULTS_BEFORE_SHELL);
  expect(bytesBeforeShell).toBeLessThan(published.bytes / 4);
  expect(beforeShell.some((p) => p.startsWith("/guest/state/objects/"))).toBe(true);
  expect(beforeShell.filter((p) => /\/(bzImage|initrd\.img)$/.test(p))).toEqual([]);
  const vm = vmOf(page);
  // The clean state: nothing in root's home, the disk as the build left it.
  expect(await vm.run("ls -A /root | wc -l")).toBe("0");
  // It becomes the golden state once stored (in the background, ~8 s here). A Reset asked for
  // before that (a new user's first click) waits for it instead of refusing, and goes back to it.
  await vm.run("echo dirty > /root/after.txt; sync");
  await page.evaluate(() => window.snap86.reset());
  expect(await vm.run("ls -A /root | wc -l")).toBe("0");
  const golden = await page.evaluate(() => window.snap86.ensureGolden());
  expect(golden.id).toBe(published.checkpointId);
  await context.close();
});

test("a published state of another guest build is refused with the reason shown: a BIOS boot instead", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.route("**/guest/state/published.json", async (route) => {
    const response = await route.fetch();
    const state = (await response.json()) as Record<string, unknown>;
    await route.fulfill({ response, json: { ...state, guestImageId: "0".repeat(64) } });
  });
  const requests = watchRequests(page);
  await page.goto("/");
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await expect(page.locator("#notice")).toContainText("the published clean state was not used because it was made from guest build 000000000000");
  await page.evaluate(() => window.snap86.waitForShell());
  await expect(page.locator("html")).toHaveAttribute("data-start", "cold");
  expect(requests.some((p) => p.endsWith("/bzImage"))).toBe(true);
  expect(requests.some((p) => p.startsWith("/guest/state/objects/"))).toBe(false);
  await context.close();
});

test("?boot=cold boots from the BIOS on a first visit", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests = watchRequests(page);
  await page.goto("/?boot=cold");
  await page.waitForFunction(() => typeof window.snap86 === "object");
  await page.evaluate(() => window.snap86.waitForShell());
  await expect(page.locator("html")).toHaveAttribute("data-start", "cold");
  expect(requests.some((p) => p.endsWith("/bzImage"))).toBe(true);
  expect(requests.some((p) => p.startsWith("/guest/state/"))).toBe(false);
  await context.close();
});
