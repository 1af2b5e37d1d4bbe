import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

// guest.json is read by the app through src/protocol/guest-manifest.ts (parseGuestManifest);
// keep the two in step.

export const MANIFEST_NAME = "guest.json";

/** The builder's own sources: a change to any of them means the guest must be rebuilt. */
export function builderSources(scriptsDir) {
  const guestDir = join(scriptsDir, "guest");
  const helpers = readdirSync(guestDir).filter((f) => f.endsWith(".mjs")).sort().map((f) => `guest/${f}`);
  return ["build-guest.mjs", ...helpers].map((rel) => ({ rel, text: readFileSync(join(scriptsDir, rel)) }));
}

/** sha256 over the exact package versions and the builder's sources. Order-independent for packages. */
export function computeInputsHash(packages, sources) {
  const pkgs = packages.map((p) => `${p.name}:${p.arch}=${p.version}`).sort();
  const h = createHash("sha256");
  h.update(JSON.stringify({ packages: pkgs }));
  for (const s of [...sources].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))) {
    h.update(`\0${s.rel}\0${createHash("sha256").update(s.text).digest("hex")}`);
  }
  return h.digest("hex");
}

export function sha256Hex(data) {
  return createHash("sha256").update(data).digest("hex");
}

/** A files entry of guest.json for a file already written to dir. */
export function fileEntry(path, data) {
  return { path, size: data.byteLength, sha256: sha256Hex(data) };
}

export function buildManifest({ packages, kernelRelease, cmdline, memoryMiB, modules, files, inputsHash, automationConsole }) {
  return {
    schema: 1, name: "snap86 Debian i386 (busybox)", packages, kernelRelease, cmdline, memoryMiB, modules, files, inputsHash,
    ...(automationConsole ? { automationConsole } : {}),
  };
}

/**
 * Why the guest in dir is not up to date for these inputs, or null when it is.
 * Checks the hash and that every listed file exists with its recorded size (sizes, not
 * digests, so the check stays far below a second for a 128 MiB disk).
 */
export function staleReason(dir, manifest, inputsHash) {
  if (manifest === null) return `${MANIFEST_NAME} is missing`;
  if (manifest.inputsHash !== inputsHash) return "the builder or the package versions changed";
  const files = manifest.files ?? {};
  const wanted = Object.values(files);
  if (wanted.length !== 5) return `${MANIFEST_NAME} does not list the five guest files`;
  if (typeof files.disk?.blocks !== "string") return `${MANIFEST_NAME} has no disk block list`;
  const paths = [...wanted.map((f) => [f.path, f.size]), [files.disk.blocks, undefined]];
  for (const [path, size] of paths) {
    let st;
    try {
      st = statSync(join(dir, path));
    } catch {
      return `${path} is missing`;
    }
    if (size !== undefined && st.size !== size) return `${path} has ${st.size} bytes, ${MANIFEST_NAME} says ${size}`;
  }
  return null;
}

export function readManifest(dir) {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST_NAME), "utf8"));
    return typeof m === "object" && m !== null && Array.isArray(m.packages) ? m : null;
  } catch {
    return null;
  }
}
