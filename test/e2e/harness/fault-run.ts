// SPDX-License-Identifier: Apache-2.0
/**
 * A fault-injection run, end to end: a two-way message stream over a DM and a group portal (the
 * contacts write through the reference server's control API, the human through Synapse), while the
 * bridge is SIGKILLed and restarted, the server drops the Skype connection, Synapse restarts and
 * (optionally) access tokens expire every N seconds. At the end the rooms are read with
 * `/messages` and the Skype side through the control API, and ./fault-figures.ts computes the
 * figures. Shared by test/e2e/faults.test.ts (short) and bench/reliability.ts (long).
 *
 * The stream is paced (a workload rate, not a wait for a condition); each fault is injected when
 * the stream reached its share of the messages and the previous fault's windows have closed; every
 * wait is for a condition, bounded in time.
 */
import { randomBytes } from "node:crypto";
import { ControlClient } from "./control.js";
import type { E2EEnv } from "./env.js";
import {
  computeFigures,
  faultOrder,
  makeBody,
  parseBody,
  type Delivered,
  type FaultKind,
  type FaultRecord,
  type Figures,
  type Notice,
  type RoomName,
  type SentMessage,
} from "./fault-figures.js";
import type { HumanClient } from "./human.js";
import { roomHistory, sendTextReliably, textMessages } from "./room-history.js";
import { waitFor } from "./util.js";

export const ALICE = "alice@hotmail.co.uk";
export const ALICE_SKYPE = "8:live:alice_1";
const BOB = "8:live:bob_1";
const DAVE = "8:dave.lister";

export interface FaultPlan {
  /** Messages in the stream, both directions together (half from Skype, half from Matrix). */
  messages: number;
  sigkills: number;
  drops: number;
  /**
   * How many of the drops are long: the server also refuses the next 4 sign-ins (UIC answers 503),
   * so the outage outlasts the bridge's 10 s notice delay. Default 0.
   */
  longDrops?: number;
  synapseRestarts: number;
  /** Access tokens live this long (seconds) for the whole run; unset = the server's default. */
  tokenLifetimeSec?: number;
  /** The stream is paced to last this long. */
  durationMs: number;
  /** A fault's message window opens this long before the injection (in flight). Default 1 s. */
  leadMs?: number;
  /** A fault's message window stays open this long after recovery. Default 3 s. */
  settleMs?: number;
  /** Quiet time after a recovery before the next fault, and the notice window. Default 12 s. */
  noticeWindowMs?: number;
  /**
   * A SIGKILLed bridge stays down, and a stopped Synapse stays stopped, until the contacts sent
   * this many more messages (and, for the bridge, the human too). Default 3.
   */
  holdMessages?: number;
  /** How long to wait for the stream to arrive after it ended. Default 180 s. */
  convergeTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface FaultRunResult {
  plan: Omit<FaultPlan, "log">;
  startedAt: string;
  timings: { setupMs: number; streamMs: number; convergeMs: number; totalMs: number };
  converged: boolean;
  markersArrived: boolean;
  faults: FaultRecord[];
  figures: Figures;
  tokens: { refreshes: number; refused401: number } | null;
}

interface Rooms {
  mgmt: string;
  dm: string;
  group: string;
  thread: string;
}

async function aliceConnections(control: ControlClient): Promise<number[]> {
  return (await control.endpoints())
    .filter((e) => e.ready && e.identities.includes(ALICE_SKYPE))
    .map((e) => e.connection);
}

/** Waits until alice has a ready connection that is not one of `before`. */
async function newConnection(control: ControlClient, before: number[], timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => (await aliceConnections(control)).some((c) => !before.includes(c)), {
    timeoutMs,
    intervalMs: 100,
    what: "a new Skype connection for alice",
  });
}

async function setUp(env: E2EEnv, human: HumanClient, control: ControlClient): Promise<Rooms> {
  const mgmt = await env.openManagementRoom(human);
  await env.linkSkype(human, mgmt);
  const { room: dm } = await env.dmFromContact(human, {
    from: BOB,
    to: ALICE_SKYPE,
    text: "setup dm",
    senderPattern: /bob/,
  });
  const { id: thread } = await control.createThread({
    as: "bob@outlook.com",
    members: [BOB, ALICE_SKYPE, DAVE],
    topic: "Fault run",
  });
  const group = await human.waitForInvite(
    (_r, e) => e.sender === env.botUserId && e.content.is_direct !== true,
    "the group portal invite",
  );
  await human.joinRoom(group);
  await control.send({ from: BOB, to: thread, text: "setup group" });
  await human.waitForEvent((e) => e.room_id === group && e.content.body === "setup group", "setup group");
  for (const [room, conv] of [
    [dm, BOB],
    [group, thread],
  ] as const) {
    await human.sendText(room, "setup from matrix");
    await waitFor(
      async () =>
        (await control.messages({ user: ALICE, conversation: conv })).some(
          (m) => m.from === ALICE_SKYPE && m.content === "setup from matrix",
        ),
      { what: `the set-up message on Skype (${conv})` },
    );
  }
  return { mgmt, dm, group, thread };
}

/** What each room and conversation holds now (rooms by /messages, Skype by the control API). */
async function readDelivered(human: HumanClient, control: ControlClient, rooms: Rooms): Promise<Delivered> {
  const fromOthers = async (room: string): Promise<string[]> =>
    textMessages(await roomHistory(human, room))
      .filter((e) => e.sender !== human.mxid)
      .map((e) => String(e.content.body));
  const fromAlice = async (conversation: string): Promise<string[]> =>
    (await control.messages({ user: ALICE, conversation }))
      .filter((m) => m.from === ALICE_SKYPE && !m.editedId)
      .sort((a, b) => a.id - b.id)
      .map((m) => m.content);
  return {
    dm: { "skype-to-matrix": await fromOthers(rooms.dm), "matrix-to-skype": await fromAlice(BOB) },
    group: {
      "skype-to-matrix": await fromOthers(rooms.group),
      "matrix-to-skype": await fromAlice(rooms.thread),
    },
  };
}

const pace = (until: number): Promise<void> =>
  new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())));

export async function runFaultStream(env: E2EEnv, plan: FaultPlan): Promise<FaultRunResult> {
  const log = plan.log ?? (() => undefined);
  const leadMs = plan.leadMs ?? 1_000;
  const settleMs = plan.settleMs ?? 3_000;
  const noticeWindowMs = plan.noticeWindowMs ?? 12_000;
  const began = Date.now();
  const control = new ControlClient(env.skype.controlUrl);
  await control.setHttpKnobs({ requestLogSize: 1_000_000 });
  if (plan.tokenLifetimeSec) await control.setTokenLifetime(plan.tokenLifetimeSec);
  const human = await env.human("alice");
  const rooms = await setUp(env, human, control);
  const roomOf: Record<RoomName, string> = { dm: rooms.dm, group: rooms.group };
  const requestsBefore = (await control.requests()).at(-1)?.seq ?? 0;
  log(`set up in ${((Date.now() - began) / 1000).toFixed(1)} s`);

  const fromSkype = Math.ceil(plan.messages / 2);
  const fromMatrix = plan.messages - fromSkype;
  const order = faultOrder({ sigkill: plan.sigkills, drop: plan.drops, synapse: plan.synapseRestarts });
  const sent: SentMessage[] = [];
  const faults: FaultRecord[] = [];
  const runId = randomBytes(4).toString("hex");
  let skypeSent = 0;
  let matrixStarted = 0;
  let matrixAccepted = 0;
  const hold = plan.holdMessages ?? 3;
  /** Waits until both sides wrote `hold` more messages (Matrix: accepted, or only begun when `begun`). */
  const holdDown = async (what: string, begun: boolean): Promise<void> => {
    const s0 = skypeSent;
    const m0 = begun ? matrixStarted : matrixAccepted;
    const wantMatrix = begun ? 1 : hold;
    await waitFor(
      () =>
        (skypeSent >= s0 + hold || skypeSent >= fromSkype) &&
        ((begun ? matrixStarted : matrixAccepted) >= m0 + wantMatrix || matrixStarted >= fromMatrix),
      { timeoutMs: 120_000, intervalMs: 50, what: `messages written while ${what}` },
    );
  };
  const t0 = Date.now();

  const skypeLoop = async (): Promise<void> => {
    const every = plan.durationMs / fromSkype;
    for (let k = 0; k < fromSkype; k++) {
      await pace(t0 + k * every);
      const room: RoomName = k % 2 === 0 ? "dm" : "group";
      const seq = Math.floor(k / 2);
      const body = makeBody("skype-to-matrix", room, seq);
      const from = room === "dm" || k % 4 === 1 ? BOB : DAVE;
      const m: SentMessage = {
        body,
        direction: "skype-to-matrix",
        room,
        seq,
        sentAt: Date.now(),
        attempts: 1,
      };
      sent.push(m);
      try {
        await control.send({ from, to: room === "dm" ? ALICE_SKYPE : rooms.thread, text: body });
      } catch (e) {
        m.sendError = e instanceof Error ? e.message : String(e);
      }
      skypeSent = k + 1;
    }
  };
  const matrixLoop = async (): Promise<void> => {
    const every = plan.durationMs / fromMatrix;
    for (let k = 0; k < fromMatrix; k++) {
      await pace(t0 + every / 2 + k * every);
      const room: RoomName = k % 2 === 0 ? "dm" : "group";
      const seq = Math.floor(k / 2);
      const body = makeBody("matrix-to-skype", room, seq);
      const m: SentMessage = {
        body,
        direction: "matrix-to-skype",
        room,
        seq,
        sentAt: Date.now(),
        attempts: 0,
      };
      sent.push(m);
      matrixStarted = k + 1;
      try {
        const r = await sendTextReliably(human, roomOf[room], body, `fault-${runId}-${k}`);
        m.attempts = r.attempts;
      } catch (e) {
        m.sendError = e instanceof Error ? e.message : String(e);
      }
      matrixAccepted = k + 1;
    }
  };
  const longEvery = plan.longDrops ? Math.max(1, Math.floor(plan.drops / plan.longDrops)) : 0;
  const isLongDrop = (n: number): boolean =>
    longEvery > 0 && (n + 1) % longEvery === 0 && (n + 1) / longEvery <= (plan.longDrops ?? 0);
  const faultLoop = async (): Promise<void> => {
    let drops = 0;
    for (let j = 0; j < order.length; j++) {
      const kind: FaultKind = order[j]!;
      const trigger = Math.floor(((j + 1) * fromSkype) / (order.length + 1));
      const quietSince = faults.at(-1)?.recoveredAt ?? 0;
      await waitFor(() => skypeSent >= trigger && Date.now() >= quietSince + noticeWindowMs, {
        timeoutMs: plan.durationMs + 600_000,
        intervalMs: 50,
        what: `the stream to reach fault ${j + 1}`,
      });
      const before = await aliceConnections(control);
      const now = Date.now();
      const f: FaultRecord = {
        index: j,
        kind,
        detail: "",
        requestedAt: now,
        injectedAt: now,
        restartAt: now,
        recoveredAt: 0,
      };
      faults.push(f);
      const logFrom = env.bridgeLines.length;
      try {
        if (kind === "sigkill") {
          f.detail = `SIGKILL, down until ${hold} more messages each side, then start`;
          await env.stopBridge("SIGKILL");
          await holdDown("the bridge is down", false);
          f.restartAt = Date.now();
          const pingFailures = env.startPingFailures.length;
          await env.startBridge();
          for (const line of env.startPingFailures.slice(pingFailures))
            (f.notes ??= []).push(`bridge start-up ping failed, harness ping succeeded: ${line}`);
          await newConnection(control, before);
        } else if (kind === "drop") {
          const variant = drops % 3;
          const how = [{}, { afterFrames: 2 }, { out: "SSD" as const }][variant]!;
          f.detail = ["socket closed now", "socket closed after 2 more client frames", "OUT SSD"][variant]!;
          if (isLongDrop(drops++)) {
            await control.setHttpKnobs({ failNext: { uic: 4 }, failStatus: 503 });
            f.detail += "; the next 4 sign-ins refused (UIC 503)";
          }
          await control.drop({ user: ALICE, ...how });
          await waitFor(async () => !(await aliceConnections(control)).some((c) => before.includes(c)), {
            timeoutMs: 120_000,
            intervalMs: 50,
            what: "the server to cut the connection",
          });
          f.injectedAt = f.restartAt = Date.now();
          await newConnection(control, before);
        } else {
          f.detail = `SIGTERM, stopped until ${hold} more Skype messages and a Matrix send waits, then start on the same port and data`;
          await env.synapse.stop();
          await holdDown("Synapse is stopped", true);
          f.restartAt = Date.now();
          await env.synapse.restart();
        }
      } catch (e) {
        f.error = e instanceof Error ? e.message : String(e);
        f.evidence = {
          bridge: env.bridgeLines.slice(logFrom).slice(-80),
          synapse: env.synapse
            .tailLog(400)
            .split("\n")
            .filter((l) => / (WARNING|ERROR|CRITICAL) |appservice|ping/i.test(l))
            .slice(-40),
        };
      }
      f.recoveredAt = Date.now();
      log(
        `fault ${j + 1}/${order.length} ${kind} (${f.detail}): recovered in ` +
          `${((f.recoveredAt - f.injectedAt) / 1000).toFixed(1)} s${f.error ? ` — ${f.error}` : ""}` +
          (f.notes ? ` (${f.notes.join("; ")})` : ""),
      );
    }
    const last = faults.at(-1)?.recoveredAt ?? 0;
    await waitFor(() => Date.now() >= last + noticeWindowMs, {
      timeoutMs: noticeWindowMs + 1_000,
      intervalMs: 100,
      what: "the last notice window to close",
    });
  };
  await Promise.all([skypeLoop(), matrixLoop(), faultLoop()]);
  const t1 = Date.now();
  log(`stream and faults done in ${((t1 - t0) / 1000).toFixed(1)} s; waiting for delivery`);

  const expected = (d: Delivered): boolean =>
    sent.every((m) => m.sendError || d[m.room][m.direction].includes(m.body));
  let converged = true;
  try {
    await waitFor(async () => expected(await readDelivered(human, control, rooms)), {
      timeoutMs: plan.convergeTimeoutMs ?? 180_000,
      intervalMs: 1_000,
      what: "every message of the stream to arrive",
    });
  } catch {
    converged = false;
  }
  // Markers behind everything: once they are in, nothing sent before them is still on its way.
  const markers: { room: RoomName; direction: SentMessage["direction"]; body: string }[] = [];
  for (const room of ["dm", "group"] as const) {
    const s = `S-${room}-end`;
    await control.send({ from: BOB, to: room === "dm" ? ALICE_SKYPE : rooms.thread, text: s });
    const m = `M-${room}-end`;
    await sendTextReliably(human, roomOf[room], m, `fault-${runId}-end-${room}`);
    markers.push(
      { room, direction: "skype-to-matrix", body: s },
      { room, direction: "matrix-to-skype", body: m },
    );
  }
  let markersArrived = true;
  try {
    await waitFor(
      async () => {
        const d = await readDelivered(human, control, rooms);
        return markers.every((mk) => d[mk.room][mk.direction].includes(mk.body));
      },
      { timeoutMs: 90_000, intervalMs: 500, what: "the end markers" },
    );
  } catch {
    markersArrived = false;
  }
  const t2 = Date.now();
  const delivered = await readDelivered(human, control, rooms);
  for (const room of ["dm", "group"] as const) {
    for (const dir of ["skype-to-matrix", "matrix-to-skype"] as const) {
      // Set-up messages and markers are not part of the stream.
      delivered[room][dir] = delivered[room][dir].filter((b) => parseBody(b) || !/^setup |-end$/.test(b));
    }
  }
  const notices: Notice[] = textMessages(await roomHistory(human, rooms.mgmt))
    .filter((e) => e.sender === env.botUserId && e.origin_server_ts >= t0)
    .map((e) => ({
      ts: e.origin_server_ts,
      body: String(e.content.body),
      msgtype: String(e.content.msgtype),
    }));
  let tokens: FaultRunResult["tokens"] = null;
  if (plan.tokenLifetimeSec) {
    const reqs = await control.requests(requestsBefore);
    tokens = {
      refreshes: reqs.filter((r) => r.details.grantType === "refresh_token" && r.status === 200).length,
      refused401: reqs.filter((r) => r.status === 401).length,
    };
  }
  const figures = computeFigures(sent, delivered, faults, notices, {
    leadMs,
    settleMs,
    noticeWindowMs,
    tokenLifetimeSec: plan.tokenLifetimeSec,
    streamStart: t0,
    streamEnd: t1,
  });
  const { log: _log, ...planOut } = plan;
  return {
    plan: planOut,
    startedAt: new Date(began).toISOString(),
    timings: { setupMs: t0 - began, streamMs: t1 - t0, convergeMs: t2 - t1, totalMs: Date.now() - began },
    converged,
    markersArrived,
    faults,
    figures,
    tokens,
  };
}
