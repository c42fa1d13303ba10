// SPDX-License-Identifier: Apache-2.0
/**
 * Faults, end to end — the long run (`npm run reliability`): 1,000 messages both ways over a DM and
 * a group portal for 10 minutes, with 5 bridge SIGKILLs, 20 connection drops by the server, one
 * Synapse restart and access tokens that expire every 60 s (real Synapse, the bridge process, the
 * reference server; see test/e2e/harness/fault-run.ts). Prints the table and the evidence for every
 * message lost, duplicated or out of order, and writes JSON to bench/results/reliability-<date>.json.
 *
 * Overrides: RELIABILITY_MESSAGES, RELIABILITY_SIGKILLS, RELIABILITY_DROPS, RELIABILITY_SYNAPSE,
 * RELIABILITY_TOKEN_SECONDS, RELIABILITY_MINUTES, RELIABILITY_LONG_DROPS (drops during which the
 * server also refuses sign-ins for ~20 s; default 0), RELIABILITY_OUT (the JSON file). Exit code 0 when nothing was lost, duplicated or
 * reordered and no outage had more than one notice; 2 when the run finished but missed a target;
 * 1 when it could not run.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, freemem, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { format, resolveConfig } from "prettier";
import { E2EEnv } from "../test/e2e/harness/env.js";
import { formatTable } from "../test/e2e/harness/fault-figures.js";
import { runFaultStream, type FaultPlan } from "../test/e2e/harness/fault-run.js";
import { ensureSynapse } from "../test/e2e/harness/synapse.js";

const num = (name: string, fallback: number): number => {
  const v = process.env[name];
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number ≥ 0`);
  return n;
};

const out = (line = ""): void => void process.stdout.write(`${line}\n`);

function synapseVersion(): string {
  try {
    return execFileSync(ensureSynapse(), ["-c", "import synapse; print(synapse.__version__)"], {
      encoding: "utf8",
    }).trim();
  } catch {
    return "?";
  }
}

async function main(): Promise<void> {
  const plan: FaultPlan = {
    messages: num("RELIABILITY_MESSAGES", 1000),
    sigkills: num("RELIABILITY_SIGKILLS", 5),
    drops: num("RELIABILITY_DROPS", 20),
    longDrops: num("RELIABILITY_LONG_DROPS", 0),
    synapseRestarts: num("RELIABILITY_SYNAPSE", 1),
    tokenLifetimeSec: num("RELIABILITY_TOKEN_SECONDS", 60) || undefined,
    durationMs: num("RELIABILITY_MINUTES", 10) * 60_000,
    log: (line) => out(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
  };
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "?",
    memTotalGiB: +(totalmem() / 2 ** 30).toFixed(1),
    memFreeGiB: +(freemem() / 2 ** 30).toFixed(1),
    node: process.version,
    synapse: synapseVersion(),
    platform: `${process.platform} ${process.arch}`,
  };
  out(
    `reliability: ${plan.messages} messages over ${plan.durationMs / 60_000} min, ${plan.sigkills} SIGKILLs, ` +
      `${plan.drops} drops (${plan.longDrops} long), ${plan.synapseRestarts} Synapse restarts, token lifetime ${plan.tokenLifetimeSec ?? "default"} s`,
  );
  out(
    `machine: ${machine.cpus} CPUs, ${machine.memTotalGiB} GiB, Node ${machine.node}, Synapse ${machine.synapse}`,
  );
  const env = await E2EEnv.create({ config: { logging: { level: "info", format: "text" } } });
  let result;
  try {
    result = await runFaultStream(env, plan);
  } finally {
    await env.close();
  }
  const { figures } = result;
  out();
  out(formatTable(figures));
  if (result.tokens) {
    out(
      `Token refreshes seen by the server: ${result.tokens.refreshes}; HTTP requests refused with 401: ${result.tokens.refused401}.`,
    );
  }
  const t = result.timings;
  out(
    `Timings: set-up ${(t.setupMs / 1000).toFixed(0)} s, stream ${(t.streamMs / 1000).toFixed(0)} s, ` +
      `delivery after the stream ${(t.convergeMs / 1000).toFixed(0)} s, total ${(t.totalMs / 1000).toFixed(0)} s.`,
  );
  out(`Converged: ${result.converged}; end markers arrived: ${result.markersArrived}.`);

  const labelOf = (fault: number | null): string => {
    const f = fault === null ? undefined : result.faults[fault];
    return f ? `fault ${f.index + 1} (${f.kind}: ${f.detail})` : "no fault window";
  };
  const problems = figures.messages.filter((m) => m.copies !== 1 || m.outOfOrder || m.sendError);
  if (problems.length) out("\nMessages with a problem:");
  for (const m of problems) {
    const what = [
      m.copies === 0 ? "LOST" : m.copies > 1 ? `DUPLICATED ×${m.copies}` : "",
      m.outOfOrder ? "OUT OF ORDER" : "",
      m.sendError ? `send failed: ${m.sendError}` : "",
    ].filter(Boolean);
    out(`  ${m.body} sent ${new Date(m.sentAt).toISOString()} in ${labelOf(m.fault)}: ${what.join(", ")}`);
  }
  for (const u of figures.unexpected)
    out(`  unexpected in ${u.room} ${u.direction}: ${JSON.stringify(u.body)}`);
  if (figures.notices.length) out("\nState notices:");
  for (const n of figures.notices) out(`  ${new Date(n.ts).toISOString()} ${labelOf(n.fault)}: ${n.body}`);
  for (const f of result.faults.filter((x) => x.error)) {
    out(`\nfault ${f.index + 1} ${f.kind} error: ${f.error}`);
    out("  bridge log since the injection (last lines):");
    for (const l of f.evidence?.bridge.slice(-25) ?? []) out(`    ${l}`);
    out("  Synapse warnings:");
    for (const l of f.evidence?.synapse.slice(-15) ?? []) out(`    ${l}`);
  }
  if (process.env.KEEP_E2E_DIRS) out(`\nLogs kept in ${env.dir} (bridge.log, synapse/).`);

  const date = new Date().toISOString().slice(0, 10);
  const file = process.env.RELIABILITY_OUT
    ? resolve(process.env.RELIABILITY_OUT)
    : join(__dirname, "results", `reliability-${date}.json`);
  mkdirSync(dirname(file), { recursive: true });
  // Formatted as the repository's Prettier check expects, so a committed result passes `npm run lint`.
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(JSON.stringify({ machine, ...result }), { ...options, parser: "json" }));
  out(`\nJSON: ${file}`);

  const missed =
    figures.rows.some(
      (r) => r.lost || r.duplicated || r.outOfOrder || r.noticesPerOutage.some((n) => n > 1),
    ) ||
    figures.unexpected.length > 0 ||
    !result.markersArrived ||
    result.faults.some((f) => f.error);
  process.exitCode = missed ? 2 : 0;
}

main().catch((e: unknown) => {
  process.stderr.write(`reliability: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
