// SPDX-License-Identifier: Apache-2.0
/**
 * P2, throughput: a burst of N messages into one portal each way, against the minimal appservice
 * sending N events itself into one room.
 * - Skype → Matrix: N control API sends back to back (each answered once the server pushed it);
 *   the clock stops when the human's /sync has the last one.
 * - Matrix → Skype: the human sends N messages back to back (each PUT awaited, as a client does);
 *   the clock stops when the contact's endpoint got the last one.
 * - Baseline: the appservice's bot sends N events back to back (each PUT awaited, as the bridge
 *   sends into one portal); the clock stops when the human's /sync has the last one. For context,
 *   the human's N sends into the appservice's room are timed too (the rate a client can send).
 * Each burst checks order and that nothing is lost or doubled.
 */
import { performance } from "node:perf_hooks";
import type { Arrivals } from "./lib/arrivals.js";
import type { ChatSetup } from "./lib/chat-setup.js";
import { cpuSeconds } from "./lib/proc.js";
import type { BenchStack } from "./lib/stack.js";
import { median, round } from "./lib/stats.js";

export interface Burst {
  messages: number;
  /** CPU ms the bridge process used per message during the burst (NaN for the baselines). */
  bridgeCpuMsPerMessage?: number;
  ms: number;
  perSecond: number;
  inOrder: boolean;
  lost: number;
  duplicated: number;
}

export interface ThroughputRound {
  s2m: Burst;
  m2s: Burst;
  baseline: Burst;
  humanToAppservice: Burst;
}

export interface ThroughputFigures {
  messages: number;
  rounds: ThroughputRound[];
  /** Medians over rounds of bridge rate / baseline rate. */
  ratios: { s2m: number; m2s: number };
}

function check(arrivals: Arrivals, texts: string[], t0: number): Burst {
  const wanted = new Set(texts);
  const seen = arrivals.order.filter((t) => wanted.has(t));
  const distinct = new Set(seen);
  const firstOrder = seen.filter((t, i) => seen.indexOf(t) === i);
  const last = Math.max(...texts.map((t) => arrivals.at(t) ?? NaN));
  const ms = last - t0;
  return {
    messages: texts.length,
    ms: round(ms, 1) ?? NaN,
    perSecond: round((texts.length / ms) * 1000, 1) ?? NaN,
    inOrder: firstOrder.length === texts.length && firstOrder.every((t, i) => t === texts[i]),
    lost: texts.length - distinct.size,
    duplicated: seen.length - distinct.size,
  };
}

async function burst(
  label: string,
  arrivals: Arrivals,
  texts: string[],
  send: (text: string) => Promise<unknown>,
  timeoutMs: number,
  bridgePid?: number,
): Promise<Burst> {
  const cpu0 = cpuSeconds(bridgePid);
  const t0 = performance.now();
  for (const t of texts) await send(t);
  const deadline = Date.now() + timeoutMs;
  while (!texts.every((t) => arrivals.has(t))) {
    if (Date.now() > deadline) {
      const got = texts.filter((t) => arrivals.has(t)).length;
      throw new Error(`${label}: only ${got} of ${texts.length} arrived within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const result = check(arrivals, texts, t0);
  if (bridgePid !== undefined)
    result.bridgeCpuMsPerMessage = round(((cpuSeconds(bridgePid) - cpu0) * 1000) / texts.length, 2) ?? NaN;
  return result;
}

export async function runThroughput(
  stack: BenchStack,
  chat: ChatSetup,
  opts: { messages: number; rounds: number; log: (s: string) => void },
): Promise<ThroughputFigures> {
  const n = opts.messages;
  const timeout = Math.max(120_000, n * 200);
  const rounds: ThroughputRound[] = [];
  const texts = (tag: string): string[] => Array.from({ length: n }, (_, i) => `${tag}-${i}`);
  for (let r = 0; r < opts.rounds; r++) {
    const s2m = await burst(
      "Skype → Matrix",
      chat.atHuman,
      texts(`p2-s2m-${r}`),
      (text) => stack.control("/msnp/send", { from: chat.contactMri, to: chat.userMri, text }),
      timeout,
      chat.bridge.pid,
    );
    const baseline = await burst(
      "appservice → Matrix",
      chat.atHuman,
      texts(`p2-as-${r}`),
      (text) => chat.asBot.sendText(chat.appserviceRoom, text),
      timeout,
    );
    const m2s = await burst(
      "Matrix → Skype",
      chat.atContact,
      texts(`p2-m2s-${r}`),
      (text) => chat.human.sendText(chat.portal, text),
      timeout,
      chat.bridge.pid,
    );
    const humanToAppservice = await burst(
      "Matrix → appservice",
      chat.atAppservice,
      texts(`p2-h2as-${r}`),
      (text) => chat.human.sendText(chat.appserviceRoom, text),
      timeout,
    );
    rounds.push({ s2m, m2s, baseline, humanToAppservice });
    opts.log(
      `P2 round ${r + 1}/${opts.rounds}: S→M ${s2m.perSecond}/s, M→S ${m2s.perSecond}/s, ` +
        `appservice baseline ${baseline.perSecond}/s, human → appservice ${humanToAppservice.perSecond}/s`,
    );
  }
  return {
    messages: n,
    rounds,
    ratios: {
      s2m: round(median(rounds.map((x) => x.s2m.perSecond / x.baseline.perSecond)), 3) ?? NaN,
      m2s: round(median(rounds.map((x) => x.m2s.perSecond / x.baseline.perSecond)), 3) ?? NaN,
    },
  };
}
