#!/usr/bin/env node
// The whole test suite, as the README and CI run it (`npm test`):
//   1. install dependencies if needed (scripts/setup.mjs: npm registry only),
//   2. type-check, 3. lint and format check,
//   4. unit and integration tests (real sockets against the reference server),
//   5. end-to-end tests against a real Synapse (installed from PyPI into a cached venv on first use).
// Every step runs even if an earlier one failed; the exit code is non-zero if any failed.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { setup } from "./setup.mjs";

const root = resolve(import.meta.dirname, "..");
const bin = (name) => resolve(root, "node_modules", ".bin", name);
const only = process.argv.slice(2); // e.g. `npm test -- unit e2e`
const want = (step) => only.length === 0 || only.includes(step);

const totals = { pass: 0, fail: 0 };

function run(name, cmd, args, env = {}) {
  return new Promise((resolvePromise) => {
    console.log(`\n=== ${name}: ${[cmd, ...args].map((a) => a.replace(root + "/", "")).join(" ")}`);
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let buf = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      buf += chunk.toString("utf8");
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      for (const line of lines) {
        const m = /^ℹ (pass|fail) (\d+)\s*$/.exec(line);
        if (m) totals[m[1]] += Number(m[2]);
      }
    });
    child.on("close", (code) => resolvePromise(code === 0));
  });
}

async function main() {
  setup();
  const failed = [];
  const step = async (name, ...a) => {
    if (!want(name)) return;
    if (!(await run(name, ...a))) failed.push(name);
  };
  await step("typecheck", bin("tsc"), ["--noEmit", "-p", "."]);
  await step("lint", process.execPath, [resolve(root, "scripts", "lint.mjs")]);
  await step("unit", process.execPath, [
    resolve(root, "scripts", "run-tests.mjs"),
    "test/unit",
    "test/integration",
  ]);
  await step("e2e", process.execPath, [resolve(root, "scripts", "run-tests.mjs"), "test/e2e"], {
    TEST_CONCURRENCY: "1",
  });
  console.log(`\n=== summary: ${failed.length ? `FAILED steps: ${failed.join(", ")}` : "every step passed"}`);
  console.log(`tests: ${totals.pass} passed, ${totals.fail} failed`);
  process.exit(failed.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
