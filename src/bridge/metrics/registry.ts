// SPDX-License-Identifier: Apache-2.0
/**
 * The bridge's own `bridge_…` metrics, in a prom-client registry of their own (one per Bridge, so
 * that several bridges in one process, as in the tests, never share or collide). They are always
 * kept: a counter is a map lookup, and the numbers are right from the first event once someone
 * turns the endpoint on. Serving them, with the library's metrics beside them, is serve.ts's job;
 * this file only counts.
 *
 * The hooks are few on purpose: the router of a session's events notes when each arrived
 * (`timed`), the portal's message map tells when one reached Matrix (`skypeDelivered`) and the
 * portal's failure path when it did not (`skypeFailed`); the outbox says how each Matrix → Skype
 * send ended (`matrixToSkype`); MatrixOps runs every client-server call through `matrixCall`;
 * session state and token events come from subscribing to the session (`attach`). Values that live
 * in the store or the session manager (sessions by state, inbox and outbox depth) are read when
 * scraped, never tracked, so they cannot drift.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Session, SessionManager, SessionState } from "../../sessions/types.js";
import type { Store } from "../../store/types.js";
import type { CallObserver } from "../matrix/client.js";
import { matrixErrorInfo } from "../matrix/errors.js";
import type { SkypeEvent } from "../portal/from-skype.js";

const DIRECTIONS = ["skype_to_matrix", "matrix_to_skype"] as const;
const OUTCOMES = ["delivered", "failed", "refused"] as const;
const TOKEN_OUTCOMES = ["refused", "not_stored", "stored_after_failure"] as const;
export type Direction = (typeof DIRECTIONS)[number];
export type Outcome = (typeof OUTCOMES)[number];

/** Every session state, so that a state no session is in shows 0 rather than vanishing. */
const SESSION_STATES: readonly SessionState["kind"][] = [
  "connecting",
  "connected",
  "transient_disconnect",
  "bad_credentials",
  "logged_out",
];

/** Skype events that are messages (typing, thread info and group changes are not counted). */
const MESSAGE_KINDS = new Set<SkypeEvent["kind"]>(["message", "unhandled", "edit", "delete"]);

/** Literal segments of the client-server paths MatrixOps uses; any other segment is an id. */
const PATH_WORDS = new Set([
  "rooms",
  "send",
  "state",
  "redact",
  "createRoom",
  "join",
  "invite",
  "kick",
  "leave",
  "joined_members",
  "profile",
  "displayname",
  "presence",
  "status",
  "typing",
  "capabilities",
]);

/** `PUT /_matrix/client/v3/rooms/!a:b/send/m.room.message/t1` → `/rooms/{}/send/{}/{}` (bounded labels). */
export function endpointOf(path: string): string {
  const rest = path
    .replace(/^\/_matrix\/client\/v\d+/, "")
    .split("/")
    .slice(1);
  return "/" + rest.map((s) => (PATH_WORDS.has(s) ? s : "{}")).join("/");
}

/** True when the homeserver answered with a 4xx status (it refused; retrying will not help). */
function is4xx(e: unknown): boolean {
  const status = matrixErrorInfo(e).status;
  return status !== undefined && status >= 400 && status < 500;
}

/** Where the scrape-time values are read. */
export interface MetricsSources {
  readonly store: Store;
  readonly sessions: Pick<SessionManager, "all">;
}

export class BridgeMetrics {
  readonly registry = new Registry();
  private readonly messages: Counter<"direction" | "outcome">;
  private readonly latency: Histogram<"direction">;
  private readonly reconnects: Counter;
  private readonly tokenRefreshes: Counter<"outcome">;
  private readonly matrixRequests: Counter<"method" | "endpoint" | "outcome">;
  /** When each Skype event reached the bridge (keyed by the session's event object). */
  private readonly arrivals = new WeakMap<object, number>();

  constructor(
    private readonly src: MetricsSources,
    private readonly now: () => number = Date.now,
  ) {
    const registers = [this.registry];
    this.messages = new Counter({
      name: "bridge_messages_total",
      help: "Messages (and edits, deletions) bridged, by direction and outcome",
      labelNames: ["direction", "outcome"],
      registers,
    });
    this.latency = new Histogram({
      name: "bridge_message_delivery_seconds",
      help: "Skype arrival to Matrix event sent; Matrix event received to Skype's confirmation",
      labelNames: ["direction"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers,
    });
    this.reconnects = new Counter({
      name: "bridge_skype_reconnects_total",
      help: "Skype connections back after a transient disconnect",
      registers,
    });
    this.tokenRefreshes = new Counter({
      name: "bridge_token_refreshes_total",
      help: "What sessions report of their sign-in: refused, refresh token not_stored, stored_after_failure",
      labelNames: ["outcome"],
      registers,
    });
    this.matrixRequests = new Counter({
      name: "bridge_matrix_requests_total",
      help: "Client-server calls of the bridge (MatrixOps), by HTTP method, endpoint and outcome",
      labelNames: ["method", "endpoint", "outcome"],
      registers,
    });
    this.scrapeGauges(registers);
    // Every known series starts at 0, so `rate()` and `increase()` see its first event too.
    for (const direction of DIRECTIONS) {
      this.latency.zero({ direction });
      for (const outcome of OUTCOMES) this.messages.inc({ direction, outcome }, 0);
    }
    for (const outcome of TOKEN_OUTCOMES) this.tokenRefreshes.inc({ outcome }, 0);
  }

  /** Gauges read on scrape; each sets every label every time, so a value can drop to 0. */
  private scrapeGauges(registers: Registry[]): void {
    const { store, sessions } = this.src;
    new Gauge({
      name: "bridge_sessions",
      help: "Linked users' Skype sessions by state",
      labelNames: ["state"],
      registers,
      collect() {
        const counts = new Map<string, number>(SESSION_STATES.map((s) => [s, 0]));
        for (const s of sessions.all()) counts.set(s.state.kind, (counts.get(s.state.kind) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    new Gauge({
      name: "bridge_inbox_depth",
      help: "Matrix events stored and not yet handled",
      registers,
      collect() {
        this.set(store.inbox.pendingCount());
      },
    });
    new Gauge({
      name: "bridge_outbox_depth",
      help: "Matrix → Skype sends stored and not yet confirmed by Skype",
      registers,
      collect() {
        this.set(store.outbox.list().length);
      },
    });
  }

  /** Wraps the router of a session's events so that each event's arrival time is noted. */
  timed<R>(route: (conversation: string, e: SkypeEvent) => R): (conversation: string, e: SkypeEvent) => R {
    return (conversation, e) => {
      this.arrivals.set(e.event, this.now());
      return route(conversation, e);
    };
  }

  /** A Skype event reached Matrix and was recorded in the message map. */
  skypeDelivered(event: object): void {
    this.messages.inc({ direction: "skype_to_matrix", outcome: "delivered" });
    const arrived = this.arrivals.get(event);
    if (arrived === undefined) return;
    this.arrivals.delete(event);
    this.latency.observe({ direction: "skype_to_matrix" }, (this.now() - arrived) / 1000);
  }

  /** A Skype message given up on (reported to the user): `refused` when Matrix answered 4xx. */
  skypeFailed(e: SkypeEvent, error: unknown): void {
    if (!MESSAGE_KINDS.has(e.kind)) return;
    this.messages.inc({ direction: "skype_to_matrix", outcome: is4xx(error) ? "refused" : "failed" });
  }

  /**
   * How an outbox entry ended. The latency runs from the Matrix event's arrival in the inbox (the
   * outbox entry's creation when the inbox row is gone), so it spans restarts too.
   */
  matrixToSkype(row: { eventId: string; createdTs: number }, outcome: Outcome): void {
    this.messages.inc({ direction: "matrix_to_skype", outcome });
    if (outcome !== "delivered") return;
    const received = this.src.store.inbox.get(row.eventId)?.receivedTs ?? row.createdTs;
    this.latency.observe({ direction: "matrix_to_skype" }, Math.max(0, this.now() - received) / 1000);
  }

  /** Runs a client-server call and counts it: `ok`, `rejected` (a 4xx answer) or `failed`. */
  readonly matrixCall: CallObserver = async (method, path, call) => {
    const labels = { method, endpoint: endpointOf(path) };
    try {
      const result = await call();
      this.matrixRequests.inc({ ...labels, outcome: "ok" });
      return result;
    } catch (e) {
      this.matrixRequests.inc({ ...labels, outcome: is4xx(e) ? "rejected" : "failed" });
      throw e;
    }
  };

  /**
   * Follows a session's state (a `connected` after a `transient_disconnect` is a reconnect) and what
   * it says of its tokens. A successful token refresh is not visible here: the session contract
   * (sessions/types.ts) reports only a refused sign-in (`bad_credentials`) and rotated refresh
   * tokens it could not store (`refreshTokenStore`).
   */
  attach(session: Session): void {
    let lost = false;
    session.on("state", (s) => {
      if (s.kind === "transient_disconnect") lost = true;
      if (s.kind === "connected" && lost) this.reconnects.inc();
      if (s.kind !== "transient_disconnect" && s.kind !== "connecting") lost = false;
      if (s.kind === "bad_credentials") this.tokenRefreshes.inc({ outcome: "refused" });
    });
    session.on("refreshTokenStore", ({ saved }) =>
      this.tokenRefreshes.inc({ outcome: saved ? "stored_after_failure" : "not_stored" }),
    );
  }
}
