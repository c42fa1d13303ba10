#!/usr/bin/env node
// Prettier's format check, then ESLint with no warnings allowed.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const bin = (name) => resolve(root, "node_modules", ".bin", name);
let ok = spawnSync(bin("prettier"), ["-c", "."], { cwd: root, stdio: "inherit" }).status === 0;
ok =
  spawnSync(bin("eslint"), ["--max-warnings", "0", "."], { cwd: root, stdio: "inherit" }).status === 0 && ok;
process.exit(ok ? 0 : 1);
