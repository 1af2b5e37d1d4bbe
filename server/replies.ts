import type { IncomingMessage, ServerResponse } from "node:http";

/** Refusal while the request body may still be arriving: answer, then drop the connection. */
export function refuseBody(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  if (!req.complete) res.setHeader("Connection", "close");
  reply(req, res, status, { error: message });
  // Keep reading (and discarding) so the client gets to see our answer instead of a reset;
  // the "Connection: close" above ends the socket once the response is out.
  req.resume();
}

export function reply(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", String(Buffer.byteLength(text)));
  res.end(req.method === "HEAD" ? undefined : text);
}

const NO_BODY = Symbol("answered");

/**
 * A query's JSON body, read up to maxBytes (413 past it) and parsed (400 with `shape` otherwise);
 * NO_BODY once the request has been answered. The socket survives an early stop so the answer
 * reaches the client.
 */
export async function readJsonQuery(req: IncomingMessage, res: ServerResponse, maxBytes: number, shape: string): Promise<unknown> {
  const pieces: Buffer[] = [];
  let total = 0;
  for await (const piece of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    total += piece.byteLength;
    if (total > maxBytes) {
      refuseBody(req, res, 413, `query exceeds ${maxBytes} bytes`);
      return NO_BODY;
    }
    pieces.push(piece);
  }
  try {
    return JSON.parse(Buffer.concat(pieces).toString("utf8"));
  } catch {
    reply(req, res, 400, { error: `body must be ${shape}` });
    return NO_BODY;
  }
}

export function answered(value: unknown): value is typeof NO_BODY {
  return value === NO_BODY;
}
