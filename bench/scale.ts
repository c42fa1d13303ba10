// SPDX-License-Identifier: Apache-2.0
/**
 * P3, scale: N generated accounts (C contacts each) linked through the store to N Matrix users, in
 * one bridge process. For each N, on a fresh database:
 * 1. cold start: from spawn until every account has a ready endpoint on the reference server, then
 *    until every first contact sync is stored;
 * 2. restart (SIGTERM, start again on the same file): from spawn until all are connected again —
 *    the figure the target is about; then, once the process is quiet, RSS and heap after a full GC;
 * 3. event-loop delay while connected and idle, for a window;
 * 4. event-loop delay while 5 % of the accounts chat: each of them gets a message from a contact
 *    and answers from Matrix, every `chatIntervalMs`, spread over the interval (their Matrix users
 *    are registered, join their portal first and are not measured while doing so);
 * 5. a reconnect storm: once quiet again (memory after a full GC = the steady state), the reference
 *    server cuts every MSNP connection at once (`POST /msnp/drop-all`); the time until every account
 *    is connected again, the bridge's CPU and event-loop delay meanwhile, and its peak RSS and heap
 *    from the drop until it is quiet again (the probe sampled every 250 ms, and the kernel's RSS
 *    high-water mark, reset at the drop).
 * N = 0 (a bridge with nobody linked) gives the fixed cost; a least-squares line over the sizes
 * gives the marginal memory per session and the connect time per account.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import { generatedNames, type GeneratedAccount } from "../refserver/generate.js";
import type { StoredMessage } from "../refserver/msnp/history.js";
import { Arrivals } from "./lib/arrivals.js";
import { linkThroughStore } from "./lib/link.js";
import { until, type MatrixUser } from "./lib/matrix.js";
import type { ProbeSample } from "./lib/probe.js";
import { cpuSeconds, memoryMap, peakRssBytes, resetPeakRss, settle, type MemoryMap } from "./lib/proc.js";
import {
  benchCpuSeconds,
  STARTED,
  STARTING_SESSIONS,
  type BenchStack,
  type BridgeProcess,
} from "./lib/stack.js";
import { linearFit, round, summarize, type LinearFit, type Summary } from "./lib/stats.js";

export interface ScaleOptions {
  sizes: number[];
  contacts: number;
  /** At most this long for V8 to give back its start-up heap before memory is measured (90 s). */
  idleMemoryWaitMs: number;
  /** Share of accounts that chat in the chat window (0.05). */
  chatShare: number;
  chatIntervalMs: number;
  idleWindowMs: number;
  chatWindowMs: number;
  /** Config keys for the bridge (e.g. limits). */
  config?: Record<string, unknown>;
  /** Holds every reply of the reference server back this long (HTTP and MSNP), like a far server. */
  serverDelayMs?: number;
  nodeArgs?: string[];
  log: (s: string) => void;
}

export interface Memory {
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Resident memory by kind of mapping (bench/lib/proc.ts), MiB; absent when /proc is unreadable. */
  map?: Record<keyof MemoryMap, number>;
}

export interface Lag {
  p50: number;
  p99: number;
  max: number;
  /** Share of one core the bridge used over the window. */
  cpuShare?: number;
}

export interface StartFigures {
  /** Spawn → every account connected (ms). */
  allConnectedMs: number;
  /** "starting sessions" log line → every account connected (ms). */
  fromSessionsStartMs: number;
  /** Spawn → "homeserver and bridge reach each other" (ms). */
  appserviceReadyMs: number;
  /** CPU seconds the bridge process used from spawn until all were connected. */
  bridgeCpuS: number;
  /** CPU seconds this process and the reference server's (mostly the server) used over the same time. */
  benchCpuS: number;
  /** Event-loop delay of the bridge from "homeserver and bridge reach each other" until all were connected. */
  lag: Lag;
}

/** The reconnect storm: the server drops every connection at once, the bridge brings all back. */
export interface StormFigures {
  /** Connections the server cut. */
  dropped: number;
  /** Drop → every account has a ready endpoint again (ms). */
  allConnectedMs: number;
  /** Drop → the bridge used under 15 % of a core for 2 s (ms), and whether it did within the wait. */
  quietMs: number;
  quiet: boolean;
  /** CPU seconds of the bridge, and of this process and the reference server's, drop → all connected. */
  bridgeCpuS: number;
  benchCpuS: number;
  /** CPU seconds of Synapse, drop → all connected (the bridge's notices and presence reach it). */
  synapseCpuS: number;
  /** Event-loop delay of the bridge, drop → all connected. */
  lag: Lag;
  /** Just before the drop, quiet, after a full GC. */
  steady: Memory;
  /** Highest figures from the drop until quiet again: probe samples every `sampleEveryMs`. */
  peak: { rssMiB: number; heapUsedMiB: number; heapTotalMiB: number; samples: number; sampleEveryMs: number };
  /** The kernel's RSS high-water mark over the same time (VmHWM, reset at the drop); null when unreadable. */
  peakRssHwmMiB: number | null;
  /** max(peak RSS, high-water mark) ÷ steady RSS; peak heap used ÷ steady heap used. */
  rssRatio: number;
  heapRatio: number;
}

export interface ScalePoint {
  accounts: number;
  contacts: number;
  linkMs: number;
  cold?: StartFigures & { allSyncedMs: number };
  restart?: StartFigures;
  settleMs: number;
  /** Memory of the idle bridge, once V8 has given back the heap it grew to at start (see idleMemory). */
  memory: Memory;
  /** How long the idle measurement waited for that, and whether it saw it happen. */
  idleWait: { waitedMs: number; shrank: boolean };
  /** Memory right after settling (full GC), before V8 gave back its start-up heap. */
  memoryAfterStart: Memory;
  lagIdle?: Lag;
  /** Why the chat window failed, when it did (the run went on with the storm). */
  chatError?: string;
  chat?: {
    accounts: number;
    intervalMs: number;
    windowMs: number;
    sentEachWay: number;
    deliveredToMatrix: number;
    deliveredToSkype: number;
    lag: Lag;
    s2mLatency: Summary;
  };
  storm?: StormFigures;
}

export interface ScaleFigures {
  contacts: number;
  serverDelayMs: number;
  points: ScalePoint[];
  /** Bytes per account (memory) and ms per account (connect time after "starting sessions"). */
  fits: { rssBytes: LinearFit; heapUsedBytes: LinearFit; restartConnectMs: LinearFit };
  /** (heap or RSS at N − at N = 0) / N, in KB (1,000 bytes) per session, for each N. */
  marginalKB: Array<{
    accounts: number;
    heapUsed: number;
    rss: number;
    rssAfterStart: number;
    /** (value at N − value at the next smaller N) / the difference, when there is a smaller N > 0. */
    step?: { from: number; heapUsed: number; rss: number };
  }>;
}

const MiB = 1024 * 1024;

function memoryOf(s: ProbeSample, pid?: number, n?: number): Memory {
  // BENCH_SMAPS=<prefix>: the whole memory map too, to <prefix>.<N>.smaps, to compare sizes offline.
  const dump = process.env.BENCH_SMAPS;
  const map = pid === undefined ? null : memoryMap(pid, dump ? `${dump}.${n}.smaps` : undefined);
  return {
    ...(map === null
      ? {}
      : {
          map: Object.fromEntries(
            Object.entries(map).map(([k, v]) => [k, round(v / MiB, 1) ?? NaN]),
          ) as Record<keyof MemoryMap, number>,
        }),
    rssMiB: round(s.rss / MiB, 1) ?? NaN,
    heapUsedMiB: round(s.heapUsed / MiB, 1) ?? NaN,
    heapTotalMiB: round(s.heapTotal / MiB, 1) ?? NaN,
    externalMiB: round(s.external / MiB, 1) ?? NaN,
    arrayBuffersMiB: round(s.arrayBuffers / MiB, 1) ?? NaN,
    rssBytes: s.rss,
    heapUsedBytes: s.heapUsed,
  };
}

function lagOf(s: ProbeSample): Lag {
  return {
    p50: round(s.lag.p50, 1) ?? NaN,
    p99: round(s.lag.p99, 1) ?? NaN,
    max: round(s.lag.max, 1) ?? NaN,
  };
}

/** This process and the reference server's (a child process of its own). */
const processCpuSeconds = benchCpuSeconds;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until every identity in `want` is ready on the reference server; returns performance.now().
 * Polls every 100 ms, less often for many accounts (each poll lists every ready identity of the
 * server: 500 ms at 10,000).
 */
async function allConnected(stack: BenchStack, want: string[], bridge: BridgeProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const every = Math.min(1000, Math.max(100, want.length / 20));
  for (;;) {
    const ready = await stack.readyIdentities();
    const missing = want.filter((m) => !ready.has(m)).length;
    if (missing === 0) return performance.now();
    if (bridge.exited) throw new Error(`the bridge exited:\n${bridge.lastLines()}`);
    if (Date.now() > deadline)
      throw new Error(`${missing} of ${want.length} accounts not connected after ${timeoutMs} ms`);
    await sleep(every);
  }
}

function syncedCount(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT count(*) AS n FROM user_sync_state").get() as {
      n: number;
    };
    return row.n;
  } finally {
    db.close();
  }
}

async function startFigures(
  bridge: BridgeProcess,
  connectedAt: number,
  benchCpu0: number,
): Promise<StartFigures> {
  return {
    lag: lagOf(await bridge.probe("sample")),
    bridgeCpuS: round(cpuSeconds(bridge.pid), 1) ?? NaN,
    benchCpuS: round(processCpuSeconds() - benchCpu0, 1) ?? NaN,
    allConnectedMs: round(connectedAt - bridge.spawnedAt, 0) ?? NaN,
    fromSessionsStartMs: round(connectedAt - bridge.markOf(STARTING_SESSIONS), 0) ?? NaN,
    appserviceReadyMs: round(bridge.markOf(STARTED) - bridge.spawnedAt, 0) ?? NaN,
  };
}

async function chatWindow(
  stack: BenchStack,
  bridge: BridgeProcess,
  chatters: Array<{ account: GeneratedAccount; user: MatrixUser; contactMri: string; contactEmail: string }>,
  opts: ScaleOptions,
): Promise<NonNullable<ScalePoint["chat"]>> {
  // Warm-up: each chatter's portal is made by a first message; the user joins it.
  const arrivals = new Map<MatrixUser, Arrivals>();
  for (const c of chatters) {
    const a = new Arrivals();
    arrivals.set(c.user, a);
    c.user.onEvent((e) => {
      if (e.type === "m.room.message" && e.sender !== c.user.userId) a.note(String(e.content.body), e.at);
    });
    await c.user.startSync();
  }
  const portals = new Map<MatrixUser, string>();
  for (let i = 0; i < chatters.length; i += 10) {
    await Promise.all(
      chatters.slice(i, i + 10).map(async (c) => {
        await stack.control("/msnp/send", { from: c.contactMri, to: c.account.identities[1], text: "hello" });
        const room = await until(() => c.user.invites[0], `${c.user.userId}'s portal invite`, 120_000, 50);
        await c.user.join(room);
        await arrivals.get(c.user)!.wait("hello", 120_000);
        portals.set(c.user, room);
      }),
    );
  }
  await sleep(2000);
  // BENCH_CHAT_CPU_PROFILE=<prefix>: what the bridge's main thread did in the window, to
  // <prefix>.<chatters>.cpuprofile (for finding what holds the event loop).
  const profile = process.env.BENCH_CHAT_CPU_PROFILE;
  if (profile) await bridge.probe("cpu-start");
  await bridge.probe("reset");
  const cpu0 = cpuSeconds(bridge.pid);
  const t0 = Date.now();
  const sentAt = new Map<string, number>();
  let sent = 0;
  const end = Date.now() + opts.chatWindowMs;
  await Promise.all(
    chatters.map(async (c, k) => {
      await sleep((opts.chatIntervalMs * k) / chatters.length);
      for (let i = 0; Date.now() < end; i++) {
        const tick = Date.now();
        const text = `chat-${k}-${i}`;
        sentAt.set(`${k}|${text}`, performance.now());
        sent++;
        await Promise.all([
          stack.control("/msnp/send", { from: c.contactMri, to: c.account.identities[1], text }),
          c.user.sendText(portals.get(c.user)!, `${text}-back`),
        ]).catch(() => undefined);
        await sleep(Math.max(0, opts.chatIntervalMs - (Date.now() - tick)));
      }
    }),
  );
  const lag = lagOf(await bridge.probe("sample"));
  lag.cpuShare = round((cpuSeconds(bridge.pid) - cpu0) / ((Date.now() - t0) / 1000), 3) ?? NaN;
  if (profile) await bridge.probe("cpu-stop", 120_000, `${profile}.${chatters.length}.cpuprofile`);
  // Let what was sent arrive (bounded), then count.
  const arrivalOf = (key: string): number | undefined => {
    const [k, text] = key.split("|") as [string, string];
    return arrivals.get(chatters[Number(k)]!.user)!.at(text);
  };
  const toMatrix = (): number => [...sentAt.keys()].filter((key) => arrivalOf(key) !== undefined).length;
  const toSkype = async (): Promise<number> => {
    let n = 0;
    // 16 control-API reads at a time: 500 chatters at 10,000 accounts.
    for (let i = 0; i < chatters.length; i += 16) {
      const counts = await Promise.all(
        chatters.slice(i, i + 16).map(async (c) => {
          const q = new URLSearchParams({ user: c.contactEmail, conversation: c.account.identities[1] });
          const r = await stack.query<{ messages: StoredMessage[] }>(`/msnp/messages?${q.toString()}`);
          return r.messages.filter((m) => m.content.includes("-back")).length;
        }),
      );
      for (const k of counts) n += k;
    }
    return n;
  };
  const deadline = Date.now() + 60_000;
  while ((toMatrix() < sent || (await toSkype()) < sent) && Date.now() < deadline) await sleep(500);
  const latencies: number[] = [];
  for (const [key, t0] of sentAt) {
    const at = arrivalOf(key);
    if (at !== undefined) latencies.push(at - t0);
  }
  for (const c of chatters) c.user.stop();
  return {
    accounts: chatters.length,
    intervalMs: opts.chatIntervalMs,
    windowMs: opts.chatWindowMs,
    sentEachWay: sent,
    deliveredToMatrix: toMatrix(),
    deliveredToSkype: await toSkype(),
    lag,
    s2mLatency: summarize(latencies),
  };
}

const STORM_SAMPLE_MS = 250;

async function reconnectStorm(
  stack: BenchStack,
  bridge: BridgeProcess,
  want: string[],
  timeoutMs: number,
): Promise<StormFigures> {
  await settle(bridge.pid, { maxShare: 0.15, timeoutMs: 60_000 + want.length * 20 });
  const steady = memoryOf(await bridge.probe("gc"));
  const peak = { rss: 0, heapUsed: 0, heapTotal: 0, samples: 0 };
  const note = (s: ProbeSample): void => {
    peak.rss = Math.max(peak.rss, s.rss);
    peak.heapUsed = Math.max(peak.heapUsed, s.heapUsed);
    peak.heapTotal = Math.max(peak.heapTotal, s.heapTotal);
    peak.samples++;
  };
  note(await bridge.probe("reset"));
  const hwm = resetPeakRss(bridge.pid);
  const cpu0 = cpuSeconds(bridge.pid);
  const benchCpu0 = processCpuSeconds();
  const synapseCpu0 = cpuSeconds(stack.synapse.pid);
  let sampling = true;
  const sampler = (async () => {
    while (sampling && !bridge.exited) {
      const t = Date.now();
      // A probe answer held up by a busy event loop is a late sample; none at all is a missed one.
      const s = await bridge.probe("sample", 60_000).catch(() => undefined);
      if (s) note(s);
      await sleep(Math.max(0, STORM_SAMPLE_MS - (Date.now() - t)));
    }
  })();
  // Opt-in: every allocation from the drop until all are back, garbage included (bench/lib/probe.ts).
  const allocations = process.env.BENCH_STORM_ALLOCATIONS;
  if (allocations) await bridge.probe("allocations-start");
  // Opt-in: the main thread's CPU from the drop until all are back (what stalls the event loop).
  const cpuProfile = process.env.BENCH_STORM_CPU_PROFILE;
  if (cpuProfile) await bridge.probe("cpu-start");
  try {
    const t0 = performance.now();
    const { connections } = await stack.control<{ connections: number }>("/msnp/drop-all", {});
    const connectedAt = await allConnected(stack, want, bridge, timeoutMs);
    if (allocations)
      await bridge.probe("allocations-stop", 120_000, `${allocations}.${want.length}.heapprofile`);
    if (cpuProfile) await bridge.probe("cpu-stop", 120_000, `${cpuProfile}.${want.length}.cpuprofile`);
    const lag = lagOf(await bridge.probe("sample"));
    const bridgeCpuS = round(cpuSeconds(bridge.pid) - cpu0, 1) ?? NaN;
    const benchCpuS = round(processCpuSeconds() - benchCpu0, 1) ?? NaN;
    const synapseCpuS = round(cpuSeconds(stack.synapse.pid) - synapseCpu0, 1) ?? NaN;
    const quiet = await settle(bridge.pid, { maxShare: 0.15, timeoutMs: 60_000 + want.length * 20 });
    sampling = false;
    await sampler;
    const hwmBytes = hwm ? peakRssBytes(bridge.pid) : NaN;
    const peakRss = Math.max(peak.rss, Number.isFinite(hwmBytes) ? hwmBytes : 0);
    return {
      dropped: connections,
      allConnectedMs: round(connectedAt - t0, 0) ?? NaN,
      quietMs: round(performance.now() - t0, 0) ?? NaN,
      quiet: quiet.settled,
      bridgeCpuS,
      benchCpuS,
      synapseCpuS,
      lag,
      steady,
      peak: {
        rssMiB: round(peak.rss / MiB, 1) ?? NaN,
        heapUsedMiB: round(peak.heapUsed / MiB, 1) ?? NaN,
        heapTotalMiB: round(peak.heapTotal / MiB, 1) ?? NaN,
        samples: peak.samples,
        sampleEveryMs: STORM_SAMPLE_MS,
      },
      peakRssHwmMiB: round(hwmBytes / MiB, 1),
      rssRatio: round(peakRss / steady.rssBytes, 2) ?? NaN,
      heapRatio: round(peak.heapUsed / steady.heapUsedBytes, 2) ?? NaN,
    };
  } finally {
    sampling = false;
    await sampler;
  }
}

async function measureSize(stack: BenchStack, n: number, opts: ScaleOptions): Promise<ScalePoint> {
  const tag = randomBytes(2).toString("hex");
  const db = `scale-${n}-${tag}.db`;
  const startOpts = { db, config: opts.config, nodeArgs: opts.nodeArgs };
  if (n === 0) {
    // Fixed cost: a bridge with nobody linked.
    const bridge = await stack.startBridge(startOpts);
    const s = await settle(bridge.pid, { maxShare: 0.1, timeoutMs: 30_000 });
    const memoryAfterStart = memoryOf(await bridge.probe("gc"));
    const { memory, idleWait } = await idleMemory(bridge, 0, opts.idleMemoryWaitMs);
    await heapSnapshot(bridge, 0);
    await bridge.stop("SIGTERM");
    return {
      accounts: 0,
      contacts: opts.contacts,
      linkMs: 0,
      settleMs: s.waitedMs,
      memory,
      idleWait,
      memoryAfterStart,
    };
  }
  const prefix = `s${n}x${tag}`;
  const accounts = await stack.generate(prefix, n, opts.contacts);
  const mxid = (i: number): string => `@${prefix}_${i}:${stack.synapse.domain}`;
  const chatCount = Math.max(1, Math.ceil(n * opts.chatShare));
  const chatters: Parameters<typeof chatWindow>[2] = [];
  for (let i = 0; i < chatCount; i++) {
    const user = await stack.human(`${prefix}_${i}`);
    const names = generatedNames(prefix, i, 0);
    chatters.push({
      account: accounts[i]!,
      user,
      contactMri: `8:${names.skypename}`,
      contactEmail: names.email,
    });
  }
  const linkMs = linkThroughStore(
    stack.dbPath(db),
    stack.tokenKey,
    accounts.map((account, i) => ({ mxid: mxid(i), account })),
  );
  const want = accounts.map((a) => a.identities[1]);
  const connectTimeout = 120_000 + n * 200;

  // 1. Cold start.
  let benchCpu0 = processCpuSeconds();
  let bridge = await stack.startBridge(startOpts);
  await bridge.probe("reset");
  let connectedAt = await allConnected(stack, want, bridge, connectTimeout);
  const coldStart = await startFigures(bridge, connectedAt, benchCpu0);
  await until(() => syncedCount(stack.dbPath(db)) >= n, "every first contact sync", connectTimeout, 250);
  const cold = { ...coldStart, allSyncedMs: round(performance.now() - bridge.spawnedAt, 0) ?? NaN };
  opts.log(
    `P3 N=${n}: cold start, all connected in ${cold.allConnectedMs} ms, synced in ${cold.allSyncedMs} ms`,
  );
  await settle(bridge.pid, { maxShare: 0.15, timeoutMs: 30_000 });

  // 2. Restart.
  await bridge.stop("SIGTERM");
  await until(
    async () => {
      const ready = await stack.readyIdentities();
      return !want.some((m) => ready.has(m));
    },
    "the old endpoints to close",
    30_000,
    100,
  );
  benchCpu0 = processCpuSeconds();
  bridge = await stack.startBridge({ ...startOpts, log: `${db}.restart.log` });
  await bridge.probe("reset");
  connectedAt = await allConnected(stack, want, bridge, connectTimeout);
  const restart = await startFigures(bridge, connectedAt, benchCpu0);
  opts.log(
    `P3 N=${n}: restart, all connected in ${restart.allConnectedMs} ms (${restart.fromSessionsStartMs} ms after sessions started)`,
  );
  const settled = await settle(bridge.pid, { maxShare: 0.15, timeoutMs: 60_000 + n * 20 });
  const memoryAfterStart = memoryOf(await bridge.probe("gc"));
  const { memory, idleWait } = await idleMemory(bridge, n, opts.idleMemoryWaitMs);
  await heapSnapshot(bridge, n);

  // 3. Idle.
  await bridge.probe("reset");
  const idleCpu0 = cpuSeconds(bridge.pid);
  await sleep(opts.idleWindowMs);
  const lagIdle = lagOf(await bridge.probe("sample"));
  lagIdle.cpuShare = round((cpuSeconds(bridge.pid) - idleCpu0) / (opts.idleWindowMs / 1000), 3) ?? NaN;
  opts.log(
    `P3 N=${n}: heap ${memory.heapUsedMiB} MiB, RSS ${memory.rssMiB} MiB, idle lag p99 ${lagIdle.p99} ms`,
  );

  // 4. Chat. A failure of the bench's own clients here (hundreds of /sync loops at 10,000) must not
  // cost the storm after it: it is recorded and the run goes on.
  let chat: ScalePoint["chat"];
  let chatError: string | undefined;
  try {
    chat = await chatWindow(stack, bridge, chatters, opts);
    opts.log(
      `P3 N=${n}: ${chat.accounts} chatting, lag p99 ${chat.lag.p99} ms, ` +
        `${chat.deliveredToMatrix}/${chat.sentEachWay} to Matrix, ${chat.deliveredToSkype}/${chat.sentEachWay} to Skype`,
    );
  } catch (e) {
    chatError = e instanceof Error ? e.message : String(e);
    for (const c of chatters) c.user.stop();
    opts.log(`P3 N=${n}: the chat window failed (${chatError}); going on with the storm`);
  }

  // 5. Reconnect storm.
  const storm = await reconnectStorm(stack, bridge, want, connectTimeout);
  opts.log(
    `P3 N=${n}: reconnect storm, ${storm.dropped} dropped, all connected again in ${storm.allConnectedMs} ms ` +
      `(quiet after ${storm.quietMs} ms), peak RSS ${Math.max(storm.peak.rssMiB, storm.peakRssHwmMiB ?? 0)} MiB ` +
      `(${storm.rssRatio}× steady ${storm.steady.rssMiB} MiB), peak heap ${storm.peak.heapUsedMiB} MiB ` +
      `(${storm.heapRatio}×), lag p99 ${storm.lag.p99} ms, bridge CPU ${storm.bridgeCpuS} s, ` +
      `server and bench CPU ${storm.benchCpuS} s, Synapse CPU ${storm.synapseCpuS} s`,
  );
  await bridge.stop("SIGTERM");
  return {
    accounts: n,
    contacts: opts.contacts,
    linkMs: round(linkMs, 0) ?? NaN,
    cold,
    restart,
    settleMs: settled.waitedMs,
    memory,
    idleWait,
    memoryAfterStart,
    lagIdle,
    chat,
    ...(chatError === undefined ? {} : { chatError }),
    storm,
  };
}

/**
 * Memory of the idle bridge. After the start-up burst V8 keeps the heap it grew to (at 1,000
 * accounts 185 MiB committed for 113 MiB used, right after a full GC) until its memory reducer runs,
 * which happened 5–35 s after the bridge went quiet, with no GC forced (RSS 301 → 233 MiB at 1,000;
 * 152 → 112 MiB with nobody linked). Measured earlier, the start-up heap counts as memory per
 * session. So: sample every 5 s, without forcing a collection, until the committed heap is within
 * 1.2× of the heap in use (the reducer has run) or `maxWaitMs` has passed; then a full GC and the
 * figures (and, with BENCH_SMAPS, the memory map).
 */
async function idleMemory(
  bridge: BridgeProcess,
  n: number,
  maxWaitMs: number,
): Promise<{ memory: Memory; idleWait: ScalePoint["idleWait"] }> {
  const t0 = Date.now();
  let shrank = false;
  while (Date.now() - t0 < maxWaitMs) {
    const s = await bridge.probe("sample");
    if (s.heapTotal <= 1.2 * s.heapUsed) {
      shrank = true;
      break;
    }
    await sleep(Math.min(5000, Math.max(0, maxWaitMs - (Date.now() - t0))));
  }
  const idleWait = { waitedMs: Date.now() - t0, shrank };
  return { memory: memoryOf(await bridge.probe("gc"), bridge.pid, n), idleWait };
}

/** With BENCH_HEAP_SNAPSHOT=<prefix>: the settled heap of the run with N accounts, to <prefix>.<N>.heapsnapshot. */
async function heapSnapshot(bridge: BridgeProcess, n: number): Promise<void> {
  const prefix = process.env.BENCH_HEAP_SNAPSHOT;
  if (prefix) await bridge.probe("heapsnapshot", 600_000, `${prefix}.${n}.heapsnapshot`);
}

export async function runScale(stack: BenchStack, opts: ScaleOptions): Promise<ScaleFigures> {
  const points: ScalePoint[] = [];
  const delay = opts.serverDelayMs ?? 0;
  await stack.control("/http/knobs", { delayMs: delay });
  await stack.control("/msnp/knobs", { replyDelayMs: delay });
  try {
    for (const n of [0, ...opts.sizes.filter((s) => s > 0)]) points.push(await measureSize(stack, n, opts));
  } finally {
    await stack.control("/http/knobs", { delayMs: 0 });
    await stack.control("/msnp/knobs", { replyDelayMs: 0 });
  }
  const xs = points.map((p) => p.accounts);
  const withStart = points.filter((p) => p.restart);
  const base = points[0]!;
  const kb = (a: number, b: number, n: number): number => round((a - b) / 1000 / n, 1) ?? NaN;
  return {
    contacts: opts.contacts,
    serverDelayMs: delay,
    points,
    fits: {
      rssBytes: linearFit(
        xs,
        points.map((p) => p.memory.rssBytes),
      ),
      heapUsedBytes: linearFit(
        xs,
        points.map((p) => p.memory.heapUsedBytes),
      ),
      // Nobody linked: nothing to connect (the point (0, 0)).
      restartConnectMs: linearFit(
        [0, ...withStart.map((p) => p.accounts)],
        [0, ...withStart.map((p) => p.restart!.fromSessionsStartMs)],
      ),
    },
    marginalKB: points
      .filter((p) => p.accounts > 0)
      .map((p, i, linked) => {
        // From the next smaller size with sessions: what one more session costs once some run (the
        // first sessions also bring costs paid once: worker threads' malloc arenas, compiled code).
        const prev = linked[i - 1];
        const step = prev && {
          from: prev.accounts,
          heapUsed: kb(p.memory.heapUsedBytes, prev.memory.heapUsedBytes, p.accounts - prev.accounts),
          rss: kb(p.memory.rssBytes, prev.memory.rssBytes, p.accounts - prev.accounts),
        };
        return {
          accounts: p.accounts,
          heapUsed: kb(p.memory.heapUsedBytes, base.memory.heapUsedBytes, p.accounts),
          rss: kb(p.memory.rssBytes, base.memory.rssBytes, p.accounts),
          rssAfterStart: kb(p.memoryAfterStart.rssBytes, base.memoryAfterStart.rssBytes, p.accounts),
          ...(step ? { step } : {}),
        };
      }),
  };
}
