// SPDX-License-Identifier: Apache-2.0
/**
 * The figures of a fault-injection run (./fault-run.ts), computed from what was sent and what the
 * rooms and the Skype conversations hold at the end: per fault kind, messages lost, duplicated and
 * out of order, and the state notices the user got per outage. Pure: no I/O.
 */

export type FaultKind = "sigkill" | "drop" | "synapse";
export type Direction = "skype-to-matrix" | "matrix-to-skype";
export type RoomName = "dm" | "group";

export const FAULT_LABELS: Record<FaultKind, string> = {
  sigkill: "Bridge SIGKILL + restart",
  drop: "Skype connection dropped by server",
  synapse: "Synapse restart",
};

/** One message of the stream. Bodies are `S-<room>-<n>` (from Skype) and `M-<room>-<n>` (from Matrix). */
export interface SentMessage {
  body: string;
  direction: Direction;
  room: RoomName;
  /** Position in its room and direction (send order). */
  seq: number;
  /** First attempt to send (ms since the epoch). */
  sentAt: number;
  /** Requests the sender needed (Matrix side retries the same transaction while Synapse is away). */
  attempts: number;
  /** Set when the sender gave up (never accepted by its side). */
  sendError?: string;
}

export interface FaultRecord {
  index: number;
  kind: FaultKind;
  /** Variant, e.g. how a drop was made. */
  detail: string;
  /** When the fault was asked for (its windows open here). */
  requestedAt: number;
  /** When it took effect (a drop "after N frames" waits for them; otherwise `requestedAt`). */
  injectedAt: number;
  /** When the restart began (bridge or Synapse started again); `injectedAt` for drops. */
  restartAt: number;
  recoveredAt: number;
  /** Set when recovery was not observed in time. */
  error?: string;
  /** Things worth knowing that did not stop the recovery (e.g. the bridge's start-up ping failed). */
  notes?: string[];
  /** On error: what the bridge logged since the injection (last lines) and Synapse's warnings. */
  evidence?: { bridge: string[]; synapse: string[] };
}

export interface Notice {
  ts: number;
  body: string;
  msgtype: string;
}

/** What each room and Skype conversation holds at the end, bodies in stored order. */
export type Delivered = Record<RoomName, Record<Direction, string[]>>;

export interface FigureOptions {
  /** A fault's message window opens this long before its injection (messages still in flight). */
  leadMs: number;
  /** A fault's message window stays open this long after its recovery. */
  settleMs: number;
  /** A fault's notice window stays open this long after its recovery (capped by the next fault). */
  noticeWindowMs: number;
  /** Token lifetime during the run, if shortened. */
  tokenLifetimeSec?: number;
  streamStart: number;
  streamEnd: number;
}

export interface MessageOutcome extends SentMessage {
  copies: number;
  outOfOrder: boolean;
  /** Index of the fault whose window the message was sent in, or null. */
  fault: number | null;
}

export interface Row {
  label: string;
  kind: FaultKind | "none" | "all";
  injected: number;
  /** Injection → recovered. */
  outageMeanMs?: number;
  outageMaxMs?: number;
  /** Restart began → recovered (bridge or Synapse start until usable; a drop's reconnect). */
  recoveryMeanMs?: number;
  recoveryMaxMs?: number;
  messages: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** State notices of each outage of this kind, in injection order. */
  noticesPerOutage: number[];
  /** For the "none" row: notices outside every fault's window. */
  noticesOutside?: number;
}

export interface Figures {
  rows: Row[];
  messages: MessageOutcome[];
  /** Bodies that reached a room or conversation but were never sent by the stream. */
  unexpected: { room: RoomName; direction: Direction; body: string }[];
  notices: (Notice & { fault: number | null })[];
  /** Per room and direction: delivered in send order? */
  orderByRoom: { room: RoomName; direction: Direction; kept: boolean; outOfOrder: number }[];
}

const BODY = /^([SM])-(dm|group)-(\d+)$/;

export function parseBody(body: string): { direction: Direction; room: RoomName; seq: number } | undefined {
  const m = BODY.exec(body);
  if (!m) return undefined;
  return {
    direction: m[1] === "S" ? "skype-to-matrix" : "matrix-to-skype",
    room: m[2] as RoomName,
    seq: Number(m[3]),
  };
}

export function makeBody(direction: Direction, room: RoomName, seq: number): string {
  return `${direction === "skype-to-matrix" ? "S" : "M"}-${room}-${String(seq).padStart(4, "0")}`;
}

/** Spreads the faults over the run (smooth weighted round robin): kinds interleave evenly. */
export function faultOrder(counts: Record<FaultKind, number>): FaultKind[] {
  const kinds: FaultKind[] = ["drop", "sigkill", "synapse"];
  const total = kinds.reduce((n, k) => n + counts[k], 0);
  const current: Record<FaultKind, number> = { drop: 0, sigkill: 0, synapse: 0 };
  const out: FaultKind[] = [];
  for (let i = 0; i < total; i++) {
    let best: FaultKind = kinds[0]!;
    for (const k of kinds) {
      current[k] += counts[k];
      if (current[k] > current[best]) best = k;
    }
    current[best] -= total;
    out.push(best);
  }
  return out;
}

/** The fault whose window [request − lead, recovery + extra) holds `ts` (windows never overlap). */
function faultAt(ts: number, faults: FaultRecord[], leadMs: number, extraMs: number): number | null {
  for (let i = 0; i < faults.length; i++) {
    const f = faults[i]!;
    const next = (faults[i + 1]?.requestedAt ?? Infinity) - leadMs;
    if (ts >= f.requestedAt - leadMs && ts < Math.min(f.recoveredAt + extraMs, next)) return f.index;
  }
  return null;
}

const mean = (xs: number[]): number | undefined =>
  xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;

export function computeFigures(
  sent: SentMessage[],
  delivered: Delivered,
  faults: FaultRecord[],
  notices: Notice[],
  opts: FigureOptions,
): Figures {
  const outcomes = new Map<string, MessageOutcome>();
  for (const m of sent) {
    outcomes.set(m.body, {
      ...m,
      copies: 0,
      outOfOrder: false,
      fault: faultAt(m.sentAt, faults, opts.leadMs, opts.settleMs),
    });
  }
  const unexpected: Figures["unexpected"] = [];
  const orderByRoom: Figures["orderByRoom"] = [];
  for (const room of ["dm", "group"] as const) {
    for (const direction of ["skype-to-matrix", "matrix-to-skype"] as const) {
      let maxSeq = -1;
      let outOfOrder = 0;
      for (const body of delivered[room][direction]) {
        const o = outcomes.get(body);
        if (!o || o.room !== room || o.direction !== direction) {
          unexpected.push({ room, direction, body });
          continue;
        }
        o.copies++;
        if (o.copies > 1) continue;
        if (o.seq < maxSeq) {
          o.outOfOrder = true;
          outOfOrder++;
        }
        maxSeq = Math.max(maxSeq, o.seq);
      }
      orderByRoom.push({ room, direction, kept: outOfOrder === 0, outOfOrder });
    }
  }
  const attributed = notices.map((n) => ({ ...n, fault: faultAt(n.ts, faults, 0, opts.noticeWindowMs) }));
  const messages = [...outcomes.values()];
  const rowOf = (label: string, kind: Row["kind"], ms: MessageOutcome[], fs: FaultRecord[]): Row => {
    const outages = fs.map((f) => f.recoveredAt - f.injectedAt);
    const recoveries = fs.map((f) => f.recoveredAt - f.restartAt);
    return {
      label,
      kind,
      injected: fs.length,
      outageMeanMs: mean(outages),
      outageMaxMs: outages.length ? Math.max(...outages) : undefined,
      recoveryMeanMs: mean(recoveries),
      recoveryMaxMs: recoveries.length ? Math.max(...recoveries) : undefined,
      messages: ms.length,
      lost: ms.filter((m) => m.copies === 0).length,
      duplicated: ms.reduce((n, m) => n + Math.max(0, m.copies - 1), 0),
      outOfOrder: ms.filter((m) => m.outOfOrder).length,
      noticesPerOutage: fs.map((f) => attributed.filter((n) => n.fault === f.index).length),
    };
  };
  const rows: Row[] = [];
  for (const kind of ["sigkill", "drop", "synapse"] as const) {
    const fs = faults.filter((f) => f.kind === kind);
    const ids = new Set(fs.map((f) => f.index));
    rows.push(
      rowOf(
        FAULT_LABELS[kind],
        kind,
        messages.filter((m) => m.fault !== null && ids.has(m.fault)),
        fs,
      ),
    );
  }
  const quiet = rowOf(
    opts.tokenLifetimeSec
      ? `Between faults (token expiry every ${opts.tokenLifetimeSec} s only)`
      : "Between faults (no fault)",
    "none",
    messages.filter((m) => m.fault === null),
    [],
  );
  if (opts.tokenLifetimeSec) {
    quiet.injected = Math.floor((opts.streamEnd - opts.streamStart) / (opts.tokenLifetimeSec * 1000));
  }
  quiet.noticesOutside = attributed.filter((n) => n.fault === null).length;
  rows.push(quiet);
  const all = rowOf("All messages", "all", messages, faults);
  all.noticesOutside = quiet.noticesOutside;
  rows.push(all);
  return { rows, messages, unexpected, notices: attributed, orderByRoom };
}

function secs(ms: number | undefined): string {
  return ms === undefined ? "–" : `${(ms / 1000).toFixed(1)} s`;
}

/** The figures as a Markdown table (one row per fault kind, then between faults, then all). */
export function formatTable(figures: Figures): string {
  const header =
    "| Fault | Injected | Outage mean / max | Restart → usable mean / max | Messages sent in its windows | Lost | Duplicated | Order kept | State notices per outage (max; total) |";
  const lines = [header, "|---|---:|---|---|---:|---:|---:|---|---|"];
  for (const r of figures.rows) {
    const injected = r.kind === "none" ? (r.injected ? `${r.injected} expiries` : "–") : String(r.injected);
    const none = r.kind === "none" || r.injected === 0;
    const outage = none ? "–" : `${secs(r.outageMeanMs)} / ${secs(r.outageMaxMs)}`;
    const recovery = none ? "–" : `${secs(r.recoveryMeanMs)} / ${secs(r.recoveryMaxMs)}`;
    const order = r.outOfOrder === 0 ? "yes" : `no (${r.outOfOrder} out of place)`;
    let notices: string;
    if (r.kind === "none") notices = `${r.noticesOutside ?? 0} outside fault windows`;
    else if (r.kind === "all") {
      const inside = r.noticesPerOutage.reduce((a, b) => a + b, 0);
      const max = r.noticesPerOutage.length ? Math.max(...r.noticesPerOutage) : 0;
      notices = `${max}; ${inside + (r.noticesOutside ?? 0)}`;
    } else if (r.injected === 0) notices = "–";
    else notices = `${Math.max(...r.noticesPerOutage)}; ${r.noticesPerOutage.reduce((a, b) => a + b, 0)}`;
    lines.push(
      `| ${r.label} | ${injected} | ${outage} | ${recovery} | ${r.messages} | ${r.lost} | ${r.duplicated} | ${order} | ${notices} |`,
    );
  }
  const order = figures.orderByRoom
    .map((o) => `${o.room} ${o.direction}: ${o.kept ? "in order" : `${o.outOfOrder} out of place`}`)
    .join("; ");
  lines.push("", `Order per room: ${order}.`);
  if (figures.unexpected.length) lines.push(`Unexpected deliveries: ${figures.unexpected.length}.`);
  return lines.join("\n");
}
