/**
 * Example scenario suite, written the way a user of snap86 would: every test starts from the
 * golden state (or a named checkpoint) in milliseconds, so tests cannot leak into each other.
 */
import { expect, test } from "../fixtures/snap86";

test.describe("each test starts clean", () => {
  test("a scenario may trash the machine", async ({ vm }) => {
    await vm.run("rm -rf /root; echo broken > /etc/hostname");
    expect(await vm.run("cat /etc/hostname")).toBe("broken");
  });

  test("the next scenario never sees it", async ({ vm }) => {
    expect(await vm.run("cat /etc/hostname")).toBe("snap86");
    expect(await vm.run("test -d /root && echo present")).toBe("present");
  });
});

test.describe("scenarios from a prepared checkpoint", () => {
  test.use({ resetTo: "app installed" });

  test.beforeAll(async ({ sharedVm }) => {
    await sharedVm.reset();
    await sharedVm.run("mkdir -p /opt/app && printf '#!/bin/sh\\necho app v1 \"$@\"\\n' > /opt/app/run && chmod +x /opt/app/run && sync");
    await sharedVm.page.evaluate(() => window.snap86.checkpoint({ label: "app installed" }));
  });

  test("the app runs", async ({ vm }) => {
    expect(await vm.run("/opt/app/run hello")).toBe("app v1 hello");
    await vm.run("rm /opt/app/run");
  });

  test("and is back for the next scenario", async ({ vm }) => {
    expect(await vm.run("/opt/app/run again")).toBe("app v1 again");
  });
});
