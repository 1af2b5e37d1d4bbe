import { createHash } from "node:crypto";
import { AwsClient } from "aws4fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStore, type RunningStore } from "../tests/unit/share/store-fixture.js";
import { send } from "./test-http.js";

// The S3 backend on a real S3 implementation (Ceph RGW, scripts/rgw/start.sh; `npm run test:s3`).
// Skipped unless SNAP86_TEST_S3 names the endpoint's s3.json.
const sha = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

describe.skipIf(!process.env.SNAP86_TEST_S3)("the store on S3", () => {
  let store: RunningStore;
  let port: number;
  beforeAll(async () => {
    store = await startStore();
    port = Number(new URL(store.baseUrl).port);
  });
  afterAll(() => store.stop());

  it("puts through the store (verified), conditionally, and reads straight from the bucket", async () => {
    expect(store.backend).toBe("s3");
    const body = Buffer.from("sealed bytes of a chunk, as a share uploads them");
    const path = `/store/objects/${sha(body)}`;
    expect((await send(port, { method: "PUT", path, body })).status).toBe(201);
    expect((await send(port, { method: "PUT", path, body })).status).toBe(200); // exists: the bucket said 412
    expect((await send(port, { method: "PUT", path: `/store/objects/${sha(Buffer.from("x"))}`, body })).status).toBe(400);
    const redirect = await send(port, { method: "GET", path });
    expect(redirect.status).toBe(307);
    const location = String(redirect.headers.location);
    expect(location).toMatch(/X-Amz-Signature=/);
    expect(Buffer.from(await (await fetch(location)).arrayBuffer()).equals(body)).toBe(true);
    const ranged = await fetch(location, { headers: { Range: "bytes=7-11" } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).toString()).toBe("bytes");
    expect((await send(port, { method: "HEAD", path })).headers["content-length"]).toBe(String(body.byteLength));
    expect((await send(port, { method: "GET", path: `/store/objects/${"0".repeat(64)}` })).status).toBe(307);
  });

  it("keeps objects immutable: a conditional put of a taken name is refused by the bucket", async () => {
    const body = Buffer.from("immutable");
    expect((await send(port, { method: "PUT", path: `/store/objects/${sha(body)}`, body })).status).toBe(201);
    const s3 = JSON.parse((await import("node:fs")).readFileSync(process.env.SNAP86_TEST_S3!, "utf8")) as { endpoint: string; accessKeyId: string; secretAccessKey: string };
    const aws = new AwsClient({ ...s3, service: "s3", region: "us-east-1" });
    const location = String((await send(port, { method: "GET", path: `/store/objects/${sha(body)}` })).headers.location);
    const key = new URL(location).pathname;
    const overwrite = await aws.fetch(`${s3.endpoint}${key}`, { method: "PUT", body: "other bytes", headers: { "If-None-Match": "*" } });
    expect(overwrite.status).toBe(412);
    expect(Buffer.from(await (await fetch(location)).arrayBuffer()).equals(body)).toBe(true);
  });

  it("hands out presigned PUTs the bucket holds to the name's bytes, length and no overwrite", async () => {
    const body = Buffer.from("a sealed object that never passes through the store");
    const name = sha(body);
    const answer = await send(port, { method: "POST", path: "/store/objects/uploads", body: Buffer.from(JSON.stringify([{ name, size: body.byteLength }])) });
    expect(answer.status).toBe(200);
    const url = (JSON.parse(answer.body.toString()) as { urls: Record<string, string> }).urls[name];
    const headers = { "x-amz-content-sha256": name, "if-none-match": "*" };
    const forged = Buffer.from(body).fill(0x41, 0, 8); // same length, other bytes
    expect((await fetch(url, { method: "PUT", body: forged, headers })).status).toBe(400);
    expect((await fetch(url, { method: "PUT", body, headers })).status).toBe(200);
    expect((await fetch(url, { method: "PUT", body, headers })).status).toBe(412);
    expect((await send(port, { method: "HEAD", path: `/store/objects/${name}` })).headers["content-length"]).toBe(String(body.byteLength));
    const tooBig = await send(port, { method: "POST", path: "/store/objects/uploads", body: Buffer.from(JSON.stringify([{ name, size: 65 * 1024 * 1024 }])) });
    expect(tooBig.status).toBe(413);
  });
});
