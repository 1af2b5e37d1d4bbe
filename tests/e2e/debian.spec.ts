/**
 * The "debian" guest: boots by boot({ guest: "debian" }) and from the Guest select, has python3
 * and curl, reaches a local HTTP server, takes files through /mnt/host, and resets to its own
 * clean state (not the busybox guest's).
 */
import { createServer, type Server } from "node:http";
import { once } from "node:events";
import { expect, openApp, test, vmOf } from "../fixtures/snap86";

let server: Server;
let port: number;

test.beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader("access-control-allow-origin", "*");
    res.end(req.url === "/hello" ? "hello debian\n" : "?\n");
  });
  server.listen(Number(process.env.SNAP86_TEST_HTTP_PORT ?? 0));
  await once(server, "listening");
  port = (server.address() as { port: number }).port;
});
test.afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test("the debian guest boots with python3 and curl, takes files and resets to its own clean state", async ({ page }) => {
  test.setTimeout(600_000);
  await openApp(page);
  await page.evaluate(async () => {
    await window.snap86.boot({ guest: "debian" });
    await window.snap86.waitForShell({ timeoutMs: 400_000 });
    await window.snap86.ensureGolden();
  });
  const vm = vmOf(page);
  await expect(page.locator("#guest")).toHaveValue("debian");
  expect(await vm.run("cat /etc/debian_version")).toMatch(/^12\./);
  expect(await vm.run("python3 -c 'print(6*7)'", 120_000)).toBe("42");
  expect(await vm.run("hostname")).toBe("snap86-debian");
  // No systemd: PID 1 is snap86's own init.
  expect(await vm.run("cat /proc/1/cmdline | tr '\\0' ' '")).toMatch(/^\/bin\/bash \/sbin\/init/);
  await vm.upload("from-page.txt", "into debian\n");
  expect(await vm.run("cat /mnt/host/from-page.txt")).toBe("into debian");
  await expect.poll(() => vm.run("cat /run/resolv.conf 2>/dev/null"), { timeout: 60_000 }).toContain("nameserver");
  expect(await vm.run(`curl -sf http://localhost:${port}/hello`, 60_000)).toBe("hello debian");
  // Its own golden state: a reset comes back to Debian, without the session's file.
  await vm.run("echo session > /root/session.txt");
  await vm.reset();
  expect(await vm.run("cat /etc/debian_version; ls /root/session.txt /mnt/host/from-page.txt 2>&1 | wc -l")).toMatch(/^12\.\d+\n2$/);
});
