// SPDX-License-Identifier: Apache-2.0
/**
 * End-to-end throughput of the whole bridge (real Synapse, bridge process, reference server):
 * N messages from a Skype contact to the Matrix user, then N from Matrix to Skype, with the time
 * until the last one arrived and the bridge process's memory. Prints figures; asserts nothing.
 * Run: `npm run bench:bridge` (N from BENCH_MESSAGES, default 300).
 */
import { performance } from "node:perf_hooks";
import { readFileSync } from "node:fs";
import { E2EEnv } from "../test/e2e/harness/env.js";
import { waitFor } from "../test/e2e/harness/util.js";

const N = Number(process.env.BENCH_MESSAGES ?? 300);
const ALICE = "8:live:alice_1";
const BOB = "8:live:bob_1";

function rssOf(pid: number | undefined): string {
  if (!pid) return "?";
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return `${(kb / 1024).toFixed(0)} MiB`;
}

async function main(): Promise<void> {
  const env = await E2EEnv.create({ config: { logging: { level: "info", format: "text" } } });
  try {
    const human = await env.human("alice");
    const mgmt = await env.openManagementRoom(human);
    await env.linkSkype(human, mgmt);
    env.skype.msnp.sendMessage({ from: BOB, to: ALICE, text: "warm-up" });
    const dm = await human.waitForInvite((_r, e) => /bob/.test(e.sender), "bob's DM");
    await human.joinRoom(dm);
    await human.waitForEvent((e) => e.room_id === dm && e.content.body === "warm-up", "warm-up");
    const fromBob = (): number => human.messagesIn(dm, { fromOthers: true }).length;

    const base = fromBob();
    let t0 = performance.now();
    for (let i = 0; i < N; i++) env.skype.msnp.sendMessage({ from: BOB, to: ALICE, text: `s${i}` });
    await waitFor(() => fromBob() >= base + N, { timeoutMs: 600_000, what: `${N} messages in Matrix` });
    const s2m = performance.now() - t0;
    const order = human
      .messagesIn(dm, { fromOthers: true })
      .slice(base)
      .every((e, i) => e.content.body === `s${i}`);

    const sent = (): number =>
      env.skype.msnp.storedMessages({ conversation: BOB }).filter((m) => m.from === ALICE).length;
    const sentBase = sent();
    t0 = performance.now();
    for (let i = 0; i < N; i++) await human.sendText(dm, `m${i}`);
    const queued = performance.now() - t0;
    await waitFor(() => sent() >= sentBase + N, { timeoutMs: 600_000, what: `${N} messages on Skype` });
    const m2s = performance.now() - t0;

    const pid = (env as unknown as { bridge?: { pid?: number } }).bridge?.pid;
    const line = (name: string, ms: number): string =>
      `${name.padEnd(34)} ${N} messages in ${(ms / 1000).toFixed(1)} s = ${((N / ms) * 1000).toFixed(0)} msg/s`;
    process.stdout.write(`${line("Skype → Matrix (posted by puppet)", s2m)}  order kept: ${order}\n`);
    process.stdout.write(
      `${line("Matrix → Skype (stored by server)", m2s)}  (human client sent them in ${(queued / 1000).toFixed(1)} s)\n`,
    );
    process.stdout.write(`bridge process RSS after the runs: ${rssOf(pid)}\n`);
  } finally {
    await env.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
