// `npm run test:s3`: starts a single-node Ceph RADOS Gateway (scripts/rgw/start.sh), runs the
// share test suite and the S3 store tests against it (the same tests `npm run test:unit` runs on
// the filesystem backend), and stops it. Needs Debian's radosgw, ceph-mon, ceph-osd, ceph-common.
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./lib/setup.mjs";

const port = process.env.SNAP86_RGW_PORT ?? "7490";
const monPort = process.env.SNAP86_RGW_MON_PORT ?? "3391";
const data = join(ROOT, ".cache", `rgw-${port}`);
const start = join(ROOT, "scripts", "rgw", "start.sh");
const stop = join(ROOT, "scripts", "rgw", "stop.sh");

if (spawnSync("sh", ["-c", "command -v radosgw"]).status !== 0) {
  console.error("test:s3: radosgw is not installed (apt-get install radosgw ceph-mon ceph-osd ceph-common)");
  process.exit(1);
}
let status = 1;
try {
  execFileSync(start, [data, port, monPort], { stdio: ["ignore", "inherit", "inherit"] });
  const run = spawnSync("npx", ["vitest", "run", "tests/unit/share", "server/s3-store.test.ts", ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, SNAP86_TEST_S3: join(data, "s3.json") },
  });
  status = run.status ?? 1;
} finally {
  execFileSync(stop, [data], { stdio: "inherit" });
}
process.exit(status);
