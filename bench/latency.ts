// SPDX-License-Identifier: Apache-2.0
/**
 * P1, latency, one message at a time (the next leaves when the previous arrived), each path
 * alternating message by message with its baseline so both see the same machine:
 * - Skype → Matrix: control API send → the human's /sync holds it; baseline: Matrix user A sends
 *   → the human (B) sees it in /sync.
 * - Matrix → Skype: the human sends in the portal → the server routed it to the contact's
 *   endpoint; baseline: the human sends in a room of the minimal appservice → its transaction
 *   arrives.
 * Per round: p50/p95/p99 of each path and the bridge/baseline ratios; over rounds: the medians.
 */
import { performance } from "node:perf_hooks";
import type { ChatSetup } from "./lib/chat-setup.js";
import type { BenchStack } from "./lib/stack.js";
import { median, round, summarize, type Summary } from "./lib/stats.js";

export interface LatencyRound {
  s2m: Summary;
  s2mBaseline: Summary;
  m2s: Summary;
  m2sBaseline: Summary;
}

export interface LatencyFigures {
  messages: number;
  rounds: LatencyRound[];
  /** Medians over rounds of bridge p50 (p99) / baseline p50 (p99). */
  ratios: { s2mP50: number; s2mP99: number; m2sP50: number; m2sP99: number };
  /** Latencies of every round together, ms. */
  pooled: LatencyRound;
}

const TIMEOUT = 60_000;

export async function runLatency(
  stack: BenchStack,
  chat: ChatSetup,
  opts: { messages: number; rounds: number; log: (s: string) => void },
): Promise<LatencyFigures> {
  const { human, peer, atHuman, atContact, atAppservice } = chat;
  const rounds: LatencyRound[] = [];
  const all = { s2m: [] as number[], s2mB: [] as number[], m2s: [] as number[], m2sB: [] as number[] };
  for (let r = 0; r < opts.rounds; r++) {
    const lat = { s2m: [] as number[], s2mB: [] as number[], m2s: [] as number[], m2sB: [] as number[] };
    for (let i = 0; i < opts.messages; i++) {
      let text = `p1-s2m-${r}-${i}`;
      let t0 = performance.now();
      await stack.control("/msnp/send", { from: chat.contactMri, to: chat.userMri, text });
      lat.s2m.push((await atHuman.wait(text, TIMEOUT)) - t0);

      text = `p1-s2m-base-${r}-${i}`;
      t0 = performance.now();
      await peer.sendText(chat.baselineRoom, text);
      lat.s2mB.push((await atHuman.wait(text, TIMEOUT)) - t0);

      text = `p1-m2s-${r}-${i}`;
      t0 = performance.now();
      await human.sendText(chat.portal, text);
      lat.m2s.push((await atContact.wait(text, TIMEOUT)) - t0);

      text = `p1-m2s-base-${r}-${i}`;
      t0 = performance.now();
      await human.sendText(chat.appserviceRoom, text);
      lat.m2sB.push((await atAppservice.wait(text, TIMEOUT)) - t0);
    }
    const round: LatencyRound = {
      s2m: summarize(lat.s2m),
      s2mBaseline: summarize(lat.s2mB),
      m2s: summarize(lat.m2s),
      m2sBaseline: summarize(lat.m2sB),
    };
    rounds.push(round);
    for (const k of ["s2m", "s2mB", "m2s", "m2sB"] as const) all[k].push(...lat[k]);
    opts.log(
      `P1 round ${r + 1}/${opts.rounds}: S→M p50 ${round.s2m.p50.toFixed(1)} ms (baseline ${round.s2mBaseline.p50.toFixed(1)}), ` +
        `M→S p50 ${round.m2s.p50.toFixed(1)} ms (baseline ${round.m2sBaseline.p50.toFixed(1)})`,
    );
  }
  const ratio = (f: (r: LatencyRound) => number): number => round(median(rounds.map((x) => f(x))), 3) ?? NaN;
  return {
    messages: opts.messages,
    rounds,
    ratios: {
      s2mP50: ratio((x) => x.s2m.p50 / x.s2mBaseline.p50),
      s2mP99: ratio((x) => x.s2m.p99 / x.s2mBaseline.p99),
      m2sP50: ratio((x) => x.m2s.p50 / x.m2sBaseline.p50),
      m2sP99: ratio((x) => x.m2s.p99 / x.m2sBaseline.p99),
    },
    pooled: {
      s2m: summarize(all.s2m),
      s2mBaseline: summarize(all.s2mB),
      m2s: summarize(all.m2s),
      m2sBaseline: summarize(all.m2sB),
    },
  };
}
