#!/usr/bin/env node
// Runs node:test over every *.test.ts below the given folders (Node 20's runner neither expands
// globs nor finds .ts files by itself). Fails when it finds no test file.
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";

const args = process.argv.slice(2);
const dirs = args.length ? args : ["test/unit", "test/integration"];
const files = [];
for (const dir of dirs) {
  const root = resolve(dir);
  let st;
  try {
    st = statSync(root);
  } catch {
    continue;
  }
  if (st.isFile()) {
    files.push(root);
    continue;
  }
  for (const rel of readdirSync(root, { recursive: true })) {
    const name = String(rel);
    if (name.endsWith(".test.ts")) files.push(join(root, name));
  }
}
files.sort();
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files found under ${dirs.join(", ")}`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? "2";
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, "--test-reporter=spec", ...files],
  { stdio: "inherit" },
);
process.exit(r.status ?? 1);
