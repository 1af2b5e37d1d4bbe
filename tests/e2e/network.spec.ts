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

/** `<port>.external` is the fetch backend's name for http://localhost:<port>/ of the browser. */
const get = (vm: Vm, path: string, seconds = 20) => vm.run(`wget -T ${seconds} -q -O - http://${port}.external${path} 2>&1; echo "exit=$?"`, (seconds + 15) * 1000);

test("the guest takes a DHCP lease, resolves names and fetches from a local HTTP server", async ({ vm }) => {
  await waitForLease(vm);
  expect(await vm.run("ifconfig eth0 | grep -o 'inet addr:[0-9.]*'")).toBe("inet addr:192.168.86.100");
  expect(await vm.run("route -n | grep -c '^0.0.0.0 *192.168.86.1'")).toBe("1");
  expect(await get(vm, "/hello")).toBe("hello from the host\nexit=0");
  expect(await vm.run(`wget -q -O /tmp/1mib http://${port}.external/1mib && wc -c < /tmp/1mib`, 60_000)).toBe(String(ONE_MIB.byteLength));
  await expect(vm.page.locator("#network-status")).toContainText("on");
  await expect(vm.page.locator("#network")).toBeChecked();
});

test("turning the network off in the page cuts the guest off; on again, it reaches the server", async ({ vm }) => {
  await waitForLease(vm);
  await vm.page.locator("#network").uncheck();
  await expect(vm.page.locator("#network-status")).toHaveText(/^off/);
  expect(await vm.page.evaluate(() => window.snap86.networkStatus())).toMatchObject({ enabled: false, present: true });
  // The router's own address: no name lookup, whose retries would take longer than the point.
  expect(await vm.run("wget -T 3 -q -O - http://192.168.86.1/ 2>&1; echo exit=$?", 30_000)).toMatch(/exit=1$/);
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
