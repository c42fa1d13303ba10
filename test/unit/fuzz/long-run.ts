// SPDX-License-Identifier: Apache-2.0
/**
 * The long fuzz run (`npm run fuzz:long`): every target of test/unit/fuzz with 10⁶ inputs (times
 * the target's weight; `FUZZ_RUNS` overrides), one child process per target, as many at once as
 * there are cores (`FUZZ_JOBS` overrides), then a table. Exit code 1 when any target failed; each
 * failure prints its replay line (seed and path). Not a test file: node:test does not pick it up.
 */
import { spawn } from "node:child_process";
import { availableParallelism, cpus, totalmem } from "node:os";
import { DEFAULT_RUNS, runTarget, selected, type FuzzResult, type SomeTarget } from "./harness.js";
import { configTargets } from "./targets/config.js";
import { convertTargets } from "./targets/convert.js";
import { mediaTargets } from "./targets/media.js";
import { msnpTargets } from "./targets/msnp.js";
import { quoteTargets } from "./targets/quotes.js";
import { soapTargets } from "./targets/soap.js";
import { wbxmlTargets } from "./targets/wbxml.js";

const LONG_RUNS = 1_000_000;
const ALL: SomeTarget[] = [
  ...msnpTargets,
  ...wbxmlTargets,
  ...soapTargets,
  ...convertTargets,
  ...configTargets,
  ...quoteTargets,
  ...mediaTargets,
];

function runs(): number {
  const v = process.env.FUZZ_RUNS;
  return v ? Number(v) : LONG_RUNS;
}

/** Worker mode: run one target, print its result as one JSON line. */
function worker(name: string): void {
  const target = ALL.find((t) => t.name === name);
  if (!target) throw new Error(`no fuzz target ${JSON.stringify(name)}`);
  process.stdout.write(JSON.stringify(runTarget(target, runs())) + "\n");
}

function runWorker(name: string): Promise<FuzzResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", __filename, "--worker", name], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.on("close", (code, signal) => {
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as FuzzResult);
      } catch {
        // A crash of the whole process (out of memory, a native fault) is a failure too.
        resolve({
          name,
          runs: 0,
          seed: 0,
          ms: 0,
          slowestMs: 0,
          rssGrowth: 0,
          peakRss: 0,
          failure: `the worker died (exit ${code ?? signal}) without a result`,
        });
      }
    });
  });
}

const say = (text: string): void => void process.stdout.write(text + "\n");

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`;

function table(results: FuzzResult[]): string {
  const rows = [
    ["target", "inputs", "time", "µs/input", "slowest", "RSS growth", "peak RSS", "result"],
    ...results.map((r) => [
      r.name,
      r.runs.toLocaleString("en"),
      `${(r.ms / 1000).toFixed(1)} s`,
      r.runs ? ((r.ms * 1000) / r.runs).toFixed(0) : "-",
      `${r.slowestMs.toFixed(1)} ms`,
      mib(r.rssGrowth),
      mib(r.peakRss),
      r.failure ? "FAILED" : "ok",
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => "| " + row.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
  return [
    line(rows[0]!),
    "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|",
    ...rows.slice(1).map(line),
  ].join("\n");
}

async function main(): Promise<void> {
  const targets = ALL.filter((t) => selected(t.name));
  const jobs = Number(process.env.FUZZ_JOBS) || availableParallelism();
  say(
    `fuzz:long: ${targets.length} targets, ${runs().toLocaleString("en")} inputs each (× weight; npm test uses ` +
      `${DEFAULT_RUNS.toLocaleString("en")}), ${jobs} at a time; ${cpus().length} cores, ` +
      `${mib(totalmem())} memory, node ${process.version}, ${new Date().toISOString()}`,
  );
  const started = Date.now();
  const results: FuzzResult[] = new Array<FuzzResult>(targets.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, targets.length) }, async () => {
      while (next < targets.length) {
        const i = next++;
        const r = await runWorker(targets[i]!.name);
        say(`  ${r.failure ? "FAILED" : "ok"}  ${r.name} (${(r.ms / 1000).toFixed(1)} s)`);
        results[i] = r;
      }
    }),
  );
  say("\n" + table(results));
  say(`\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s wall clock`);
  const failed = results.filter((r) => r.failure);
  for (const r of failed) say("\n" + r.failure);
  process.exitCode = failed.length ? 1 : 0;
}

const at = process.argv.indexOf("--worker");
if (at >= 0) worker(process.argv[at + 1] ?? "");
else void main();
