// SPDX-License-Identifier: Apache-2.0
/**
 * Keeps `npm run bench` working: runs it once with tiny sizes (every part: P1 latency, P2
 * throughput, P3 scale, P4 parsers) and checks that it produced figures — not how fast they are.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";

const ROOT = resolve(__dirname, "..", "..");

const TINY = {
  BENCH_ONLY: "p1,p2,p3,p4",
  BENCH_MESSAGES: "5",
  BENCH_RUNS: "1",
  BENCH_BURST: "10",
  BENCH_SCALE: "2,4",
  BENCH_SCALE_LONG: "0",
  BENCH_CONTACTS: "3",
  BENCH_CHAT_SHARE: "0.5",
  BENCH_CHAT_INTERVAL_MS: "1000",
  BENCH_IDLE_WINDOW_MS: "1000",
  BENCH_IDLE_MEMORY_WAIT_MS: "1000",
  BENCH_CHAT_WINDOW_MS: "2000",
  BENCH_PARSER_MESSAGES: "200",
  BENCH_PARSER_DOCUMENTS: "5",
  BENCH_PARSER_REPEATS: "1",
};

function run(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench", "run.ts")], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), 540_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output });
    });
  });
}

const positive = (v: unknown, what: string): void =>
  assert.ok(
    typeof v === "number" && Number.isFinite(v) && v > 0,
    `${what} should be a positive number: ${String(v)}`,
  );

void test(
  "npm run bench: every part runs with tiny sizes and writes its figures",
  { timeout: 600_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "bench-smoke-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, "bench.json");
    const { code, output } = await run({ ...TINY, BENCH_OUT: out });
    assert.equal(code, 0, output.slice(-4000));
    // The results file, plus the table on stdout.
    const r = JSON.parse(readFileSync(out, "utf8")) as {
      machine: { nproc: string; node: string };
      p1: { pooled: Record<string, { n: number; p50: number; p99: number }>; ratios: Record<string, number> };
      p2: {
        rounds: Array<
          Record<string, { perSecond: number; inOrder: boolean; lost: number; duplicated: number }>
        >;
      };
      p3: {
        points: Array<{
          accounts: number;
          memory: { heapUsedMiB: number; rssMiB: number; map?: Record<string, number> };
          memoryAfterStart: { rssMiB: number };
          restart?: { allConnectedMs: number };
          cold?: { allConnectedMs: number };
          lagIdle?: { p99: number };
          chat?: {
            sentEachWay: number;
            deliveredToMatrix: number;
            deliveredToSkype: number;
            lag: { p99: number };
          };
          storm?: {
            dropped: number;
            allConnectedMs: number;
            lag: { p99: number };
            steady: { rssMiB: number };
            peak: { rssMiB: number; heapUsedMiB: number; samples: number };
            rssRatio: number;
          };
        }>;
        marginalKB: Array<{ heapUsed: number }>;
      };
      p4: Record<string, { format: { mbPerSecond: number }; json: { mbPerSecond: number }; ratioMb: number }>;
      table: unknown[];
      errors: string[];
    };
    assert.deepEqual(r.errors, []);
    assert.ok(r.machine.nproc && r.machine.node);
    assert.match(output, /\| P1 \|/);
    assert.match(output, /\| P4 \|/);
    assert.match(output, /reconnect storm/);
    assert.ok(r.table.length > 10);

    for (const k of ["s2m", "s2mBaseline", "m2s", "m2sBaseline"]) {
      assert.equal(r.p1.pooled[k]!.n, 5, `P1 ${k}: one latency per message`);
      positive(r.p1.pooled[k]!.p50, `P1 ${k} p50`);
      positive(r.p1.pooled[k]!.p99, `P1 ${k} p99`);
    }
    for (const k of ["s2mP50", "s2mP99", "m2sP50", "m2sP99"]) positive(r.p1.ratios[k], `P1 ratio ${k}`);

    const round = r.p2.rounds[0]!;
    for (const k of ["s2m", "m2s", "baseline", "humanToAppservice"]) {
      positive(round[k]!.perSecond, `P2 ${k} rate`);
      assert.equal(round[k]!.inOrder, true, `P2 ${k} in order`);
      assert.equal(round[k]!.lost + round[k]!.duplicated, 0, `P2 ${k} nothing lost or doubled`);
    }

    assert.deepEqual(
      r.p3.points.map((p) => p.accounts),
      [0, 2, 4],
    );
    for (const p of r.p3.points) {
      positive(p.memory.heapUsedMiB, `P3 N=${p.accounts} heap`);
      positive(p.memory.rssMiB, `P3 N=${p.accounts} RSS`);
      positive(p.memoryAfterStart.rssMiB, `P3 N=${p.accounts} RSS right after settling`);
      // Where the RSS lies (/proc/<pid>/smaps): V8's pages are anonymous mappings.
      if (process.platform === "linux") positive(p.memory.map?.anonSmall, `P3 N=${p.accounts} memory map`);
      if (p.accounts === 0) continue;
      positive(p.cold?.allConnectedMs, `P3 N=${p.accounts} cold start`);
      positive(p.restart?.allConnectedMs, `P3 N=${p.accounts} restart`);
      assert.ok(Number.isFinite(p.lagIdle?.p99), `P3 N=${p.accounts} idle lag`);
      assert.ok(Number.isFinite(p.chat?.lag.p99), `P3 N=${p.accounts} chat lag`);
      positive(p.chat?.sentEachWay, `P3 N=${p.accounts} chat messages`);
      assert.equal(p.chat?.deliveredToMatrix, p.chat?.sentEachWay, `P3 N=${p.accounts} chat reached Matrix`);
      assert.equal(p.chat?.deliveredToSkype, p.chat?.sentEachWay, `P3 N=${p.accounts} chat reached Skype`);
      assert.ok((p.storm?.dropped ?? 0) >= p.accounts, `P3 N=${p.accounts} storm dropped every account`);
      positive(p.storm?.allConnectedMs, `P3 N=${p.accounts} storm recovery`);
      assert.ok(Number.isFinite(p.storm?.lag.p99), `P3 N=${p.accounts} storm lag`);
      positive(p.storm?.peak.samples, `P3 N=${p.accounts} storm memory samples`);
      positive(p.storm?.peak.rssMiB, `P3 N=${p.accounts} storm peak RSS`);
      positive(p.storm?.rssRatio, `P3 N=${p.accounts} storm RSS ratio`);
    }
    assert.equal(r.p3.marginalKB.length, 2);

    for (const k of ["msnp", "msnpSmallReads", "wbxml", "wbxmlToContacts"]) {
      positive(r.p4[k]!.format.mbPerSecond, `P4 ${k}`);
      positive(r.p4[k]!.json.mbPerSecond, `P4 ${k} JSON`);
      positive(r.p4[k]!.ratioMb, `P4 ${k} ratio`);
    }
  },
);
