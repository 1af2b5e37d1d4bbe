import type { IncomingMessage, ServerResponse } from "node:http";
import type { Access } from "./access.js";
import { isObjectName, type ObjectStore } from "./object-store.js";
import { answered, readJsonQuery, refuseBody, reply } from "./replies.js";
import { MISSING_QUERY_MAX_NAMES } from "../src/protocol/store-http.js";

/**
 * POST /store/objects/uploads (src/protocol/store-http.ts, UPLOAD_QUERY): presigned PUT URLs so
 * uploads go straight to the bucket. Each URL is signed for one name, one exact length, the body's
 * sha256 (= the name) and If-None-Match: *, so the bucket verifies what the store would have
 * (content address, size, no overwrite) and the store never sees the bytes. Quota is charged when
 * the URL is issued: the store cannot know whether it was used.
 */
export async function presignedUploads(
  req: IncomingMessage,
  res: ServerResponse,
  collection: { store: ObjectStore; maxBytes: number },
  access: Access,
  token: string | undefined,
  maxQueryBytes: number,
): Promise<void> {
  const presign = collection.store.presignPut?.bind(collection.store);
  if (!presign) return refuseBody(req, res, 404, "this store takes uploads by PUT");
  const wanted = await readJsonQuery(req, res, maxQueryBytes, "a JSON array of {name, size}");
  if (answered(wanted)) return;
  const valid = (w: unknown): w is { name: string; size: number } => {
    const o = w as { name?: unknown; size?: unknown } | null;
    return typeof o?.name === "string" && isObjectName(o.name) && Number.isSafeInteger(o.size) && (o.size as number) >= 0;
  };
  if (!Array.isArray(wanted) || wanted.length > MISSING_QUERY_MAX_NAMES || !wanted.every(valid)) {
    return reply(req, res, 400, { error: `body must be a JSON array of at most ${MISSING_QUERY_MAX_NAMES} {name, size}` });
  }
  // As a PUT of that body through the store would be answered.
  if (wanted.some((w) => w.size > collection.maxBytes)) return reply(req, res, 413, { error: `body exceeds ${collection.maxBytes} bytes` });
  const bytes = wanted.reduce((n, w) => n + w.size, 0);
  if (!access.withinQuota(token, bytes)) return reply(req, res, 403, { error: "upload quota of this token is used up" });
  access.charge(token, bytes);
  const urls: Record<string, string> = {};
  for (const w of wanted) urls[w.name] = await presign(w.name, w.size);
  reply(req, res, 200, { urls });
}
