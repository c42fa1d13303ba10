#!/usr/bin/env node
// `npm run demo`: installs what is missing, then starts Synapse + the reference Skype server +
// the bridge on this machine and prints how to chat from Element.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { setup } from "./setup.mjs";

const root = resolve(import.meta.dirname, "..");
setup();
const child = spawn(
  process.execPath,
  ["--import", "tsx", resolve(root, "scripts", "demo.ts"), ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: "inherit",
  },
);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
