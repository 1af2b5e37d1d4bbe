// `npm start`: set up what is missing, then serve the app and the checkpoint store on localhost.
import { spawn } from "node:child_process";
import { ROOT, setup } from "./lib/setup.mjs";

setup();
const children = [
  spawn("npm", ["run", "--silent", "store"], { cwd: ROOT, stdio: "inherit" }),
  spawn("npx", ["vite", "--host", "127.0.0.1", ...process.argv.slice(2)], { cwd: ROOT, stdio: "inherit" }),
];
const stop = () => {
  for (const c of children) c.kill("SIGTERM");
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
for (const c of children) c.on("exit", (code) => code && code !== 0 && stop());
