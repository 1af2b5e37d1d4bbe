import { request } from "node:http";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";

// Raw node:http rather than fetch in server tests: fetch normalises "..", percent-encoding and
// framing, which are exactly the things the refusal tests need to send verbatim.

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** A Buffer is sent with Content-Length; an array is sent chunked, one write per element. */
  body?: Buffer | Buffer[];
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

export function send(port: number, req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    if (Buffer.isBuffer(req.body)) headers["Content-Length"] = String(req.body.byteLength);
    const outgoing = request({ host: "127.0.0.1", port, method: req.method, path: req.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    outgoing.on("error", reject);
    if (Array.isArray(req.body)) for (const part of req.body) outgoing.write(part);
    else if (req.body) outgoing.write(req.body);
    outgoing.end();
  });
}
