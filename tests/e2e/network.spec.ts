/**
 * The guest's network: a DHCP lease from v86's fetch backend, DNS, and HTTP to a local server
 * through the browser; the cable switched off and on from the page; a restored machine still
 * reaching the server. The server answers with CORS headers, as the fetch backend needs.
 */
import { createServer, type Server } from "node:http";
import { once } from "node:events";
import { expect, test, type Vm } from "../fixtures/snap86";

const ONE_MIB = Buffer.alloc(1024 * 1024, "x");
let server: Server;
let port: number;

test.beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader("access-control-allow-origin", "*");
    if (req.url === "/hello") res.end("hello from the host\n");
    else if (req.url === "/1mib") res.end(ONE_MIB);
    else res.writeHead(404).end("no such page\n");
  });
  // Both stacks: the backend fetches http://localhost:<port>/, which may resolve to ::1 or 127.0.0.1.
  server.listen(Number(process.env.SNAP86_TEST_HTTP_PORT ?? 0));
  await once(server, "listening");
  port = (server.address() as { port: number }).port;
});

test.afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The lease is taken in the background at boot: wait for it (guest time varies with load). */
async function waitForLease(vm: Vm): Promise<void> {
  await expect.poll(() => vm.run("cat /run/resolv.conf 2>/dev/null"), { timeout: 60_000 }).toContain("nameserver");
}

/**
 * The guest's http_proxy is the router, whose fetch backend fetches the URL in the browser: so
 * localhost here is the browser's (the test server), not the guest's.
 */
const get = (vm: Vm, path: string, timeout = "") => vm.run(`${timeout}wget -q -O - http://localhost:${port}${path} 2>&1; echo "exit=$?"`, 60_000);

test("the guest takes a DHCP lease, resolves names and fetches from a local HTTP server", async ({ vm }) => {
  await waitForLease(vm);
  expect(await vm.run("ifconfig eth0 | grep -o 'inet addr:[0-9.]*'")).toBe("inet addr:192.168.86.100");
  expect(await vm.run("route -n | grep -c '^0.0.0.0 *192.168.86.1'")).toBe("1");
  // DNS: the backend answers every name (busybox's own resolver, not the static libc's).
  expect(await vm.run("nslookup example.org 2>&1 | grep -c '^Address: 192.168.87.1$'")).toBe("1");
  expect(await get(vm, "/hello")).toBe("hello from the host\nexit=0");
  expect(await vm.run(`wget -q -O /tmp/1mib http://localhost:${port}/1mib && wc -c < /tmp/1mib`, 60_000)).toBe(String(ONE_MIB.byteLength));
  await expect(vm.page.locator("#network-status")).toContainText("on");
  await expect(vm.page.locator("#network")).toBeChecked();
});

test("turning the network off in the page cuts the guest off; on again, it reaches the server", async ({ vm }) => {
  await waitForLease(vm);
  await vm.page.locator("#network").uncheck();
  await expect(vm.page.locator("#network-status")).toHaveText(/^off/);
  expect(await vm.page.evaluate(() => window.snap86.networkStatus())).toMatchObject({ enabled: false, present: true });
  // Nothing comes back: the router's address no longer answers ARP ("No route to host"), or
  // busybox's timeout ends the wait (wget's own -T crashes the static busybox).
  const off = await get(vm, "/hello", "timeout 5 ");
  expect(off).toMatch(/exit=(1|143)$/);
  expect(off).not.toContain("hello");
  await vm.page.locator("#network").check();
  await expect(vm.page.locator("#network-status")).toContainText("on:");
  expect(await get(vm, "/hello")).toBe("hello from the host\nexit=0");
});

test("a restored checkpoint has a working network", async ({ vm }) => {
  await waitForLease(vm);
  const cp = await vm.page.evaluate(() => window.snap86.checkpoint({ label: "networked" }));
  await vm.run("echo changed > /root/after");
  await vm.page.evaluate((id) => window.snap86.restore(id, { mode: "eager" }), cp.id);
  expect(await get(vm, "/hello")).toBe("hello from the host\nexit=0");
});

test("a bad relay URL is refused as a machine setting", async ({ vm }) => {
  const message = await vm.page.evaluate(() =>
    window.snap86.boot({ network: { relayUrl: "http://not-a-relay" } }).then(() => "booted", (e: Error) => e.message),
  );
  expect(message).toMatch(/relayUrl must be a WebSocket relay URL/);
});
