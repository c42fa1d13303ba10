// SPDX-License-Identifier: Apache-2.0
/**
 * The Matrix client-server calls of the Skype → Matrix side, made as the bot or as a puppet through
 * the appservice (identity assertion, `?user_id=`). Every call goes through `doRequest` on the
 * intent's impersonating client so that we choose the transaction ids and `ts` ourselves
 * (matrix-conventions §0.1, §3.2, §3.3: bot-sdk's own txn ids collide across puppets).
 */
import { createHash } from "node:crypto";
import type { Intent } from "matrix-appservice-bridge";

const CS = "/_matrix/client/v3";
const enc = encodeURIComponent;

/** What a failed Matrix request tells us (bot-sdk's MatrixError, or a network error). */
export interface MatrixErrorInfo {
  /** HTTP status; undefined for network errors. */
  status?: number;
  errcode?: string;
  retryAfterMs?: number;
}

/** Reads status / errcode from whatever bot-sdk threw. */
export function matrixErrorInfo(e: unknown): MatrixErrorInfo {
  if (e === null || typeof e !== "object") return {};
  const o = e as {
    statusCode?: unknown;
    errcode?: unknown;
    retryAfterMs?: unknown;
    body?: { errcode?: unknown; retry_after_ms?: unknown };
  };
  const info: MatrixErrorInfo = {};
  if (typeof o.statusCode === "number") info.status = o.statusCode;
  const errcode = typeof o.errcode === "string" ? o.errcode : o.body?.errcode;
  if (typeof errcode === "string") info.errcode = errcode;
  const retry = typeof o.retryAfterMs === "number" ? o.retryAfterMs : o.body?.retry_after_ms;
  if (typeof retry === "number") info.retryAfterMs = retry;
  return info;
}

/** True for failures worth retrying: network errors, 5xx, rate limits. */
export function isRetryableMatrixError(e: unknown): boolean {
  const { status, errcode } = matrixErrorInfo(e);
  if (errcode === "M_LIMIT_EXCEEDED" || status === 429) return true;
  return status === undefined || status >= 500;
}

/**
 * True when the failure says the homeserver is away or overloaded (a socket error code, 5xx, 429),
 * as opposed to an unexplained exception, which must not be retried forever.
 */
export function isHomeserverAway(e: unknown): boolean {
  const { status, errcode } = matrixErrorInfo(e);
  if (status !== undefined) return status >= 500 || status === 429;
  if (errcode === "M_LIMIT_EXCEEDED") return true;
  const code = e !== null && typeof e === "object" ? (e as { code?: unknown }).code : undefined;
  return typeof code === "string" && /^(E[A-Z]+|UND_ERR_)/.test(code);
}

/** True when the homeserver refused because of room membership or power (403). */
export function isForbidden(e: unknown): boolean {
  const { status, errcode } = matrixErrorInfo(e);
  return status === 403 || errcode === "M_FORBIDDEN";
}

/** A short, secret-free description of a Matrix failure for logs. */
export function matrixErrorText(e: unknown): string {
  const { status, errcode } = matrixErrorInfo(e);
  if (status !== undefined || errcode !== undefined) return `${errcode ?? "HTTP"} ${status ?? ""}`.trim();
  return e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 200) : "unknown error";
}

/**
 * A deterministic transaction id: the same Skype event always gives the same id, so a retry (or a
 * re-send after a crash) returns the first event instead of posting twice, and ids never collide
 * between puppets (Synapse keys appservice txn ids by path only, without `user_id`).
 */
export function txnIdFor(...parts: string[]): string {
  return "skype." + createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 40);
}

/** Membership of a user in a room as the homeserver reports it. */
export type Membership = "join" | "invite" | "leave" | "ban" | "knock";

/** The Matrix calls the Skype → Matrix side needs, each made as a given user. */
export class MatrixOps {
  private readonly registered = new Set<string>();
  private roomVersion?: Promise<string>;

  /**
   * @param intentOf the bridge's intent factory (no argument: the bot).
   * @param botUserId the bot's MXID, mapped to the bot's own intent.
   */
  constructor(
    private readonly intentOf: (userId?: string) => Intent,
    readonly botUserId: string,
  ) {}

  private intent(userId: string): Intent {
    return userId === this.botUserId ? this.intentOf() : this.intentOf(userId);
  }

  private async request(
    userId: string,
    method: "GET" | "POST" | "PUT",
    path: string,
    qs: Record<string, unknown> | null,
    body: unknown,
  ): Promise<Record<string, unknown>> {
    await this.register(userId);
    const res = (await this.intent(userId).matrixClient.doRequest(method, path, qs, body)) as unknown;
    return res !== null && typeof res === "object" ? (res as Record<string, unknown>) : {};
  }

  /** Registers the user once per process (idempotent: M_USER_IN_USE counts as success). */
  async register(userId: string): Promise<void> {
    if (this.registered.has(userId)) return;
    await this.intent(userId).ensureRegistered();
    this.registered.add(userId);
  }

  /** `PUT /rooms/{room}/send/{type}/{txn}` with optional `ts` (timestamp massaging). */
  async sendEvent(
    userId: string,
    roomId: string,
    type: string,
    content: Record<string, unknown>,
    txnId: string,
    ts?: number,
  ): Promise<string> {
    const qs = ts === undefined ? {} : { ts: Math.floor(ts) };
    const res = await this.request(
      userId,
      "PUT",
      `${CS}/rooms/${enc(roomId)}/send/${enc(type)}/${enc(txnId)}`,
      qs,
      content,
    );
    return eventIdOf(res);
  }

  async sendState(
    userId: string,
    roomId: string,
    type: string,
    stateKey: string,
    content: Record<string, unknown>,
  ): Promise<string> {
    const res = await this.request(
      userId,
      "PUT",
      `${CS}/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`,
      null,
      content,
    );
    return eventIdOf(res);
  }

  /** The content of a state event, or undefined when it is not set (404). */
  async getState(
    userId: string,
    roomId: string,
    type: string,
    stateKey: string,
  ): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.request(
        userId,
        "GET",
        `${CS}/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`,
        null,
        null,
      );
    } catch (e) {
      if (matrixErrorInfo(e).status === 404) return undefined;
      throw e;
    }
  }

  async redact(
    userId: string,
    roomId: string,
    eventId: string,
    txnId: string,
    reason?: string,
  ): Promise<string> {
    const res = await this.request(
      userId,
      "PUT",
      `${CS}/rooms/${enc(roomId)}/redact/${enc(eventId)}/${enc(txnId)}`,
      null,
      reason === undefined ? {} : { reason },
    );
    return eventIdOf(res);
  }

  async createRoom(userId: string, body: Record<string, unknown>): Promise<string> {
    const res = await this.request(userId, "POST", `${CS}/createRoom`, null, body);
    if (typeof res.room_id !== "string") throw new Error("createRoom returned no room_id");
    return res.room_id;
  }

  /**
   * Joins; `content` may carry a per-room `displayname`. Uses `/join/{room}`: Synapse keeps the
   * body as the member event's content there, whereas `/rooms/{room}/join` keeps only `reason`.
   */
  async join(userId: string, roomId: string, content: Record<string, unknown> = {}): Promise<void> {
    await this.request(userId, "POST", `${CS}/join/${enc(roomId)}`, null, content);
  }

  async invite(userId: string, roomId: string, target: string): Promise<void> {
    await this.request(userId, "POST", `${CS}/rooms/${enc(roomId)}/invite`, null, { user_id: target });
  }

  async kick(userId: string, roomId: string, target: string, reason?: string): Promise<void> {
    const body: Record<string, unknown> = { user_id: target };
    if (reason !== undefined) body.reason = reason;
    await this.request(userId, "POST", `${CS}/rooms/${enc(roomId)}/kick`, null, body);
  }

  async leave(userId: string, roomId: string): Promise<void> {
    await this.request(userId, "POST", `${CS}/rooms/${enc(roomId)}/leave`, null, {});
  }

  /** The target's membership, or undefined when they never had one. */
  async membership(userId: string, roomId: string, target: string): Promise<Membership | undefined> {
    const state = await this.getState(userId, roomId, "m.room.member", target);
    const m = state?.membership;
    return typeof m === "string" ? (m as Membership) : undefined;
  }

  async joinedMembers(userId: string, roomId: string): Promise<string[]> {
    const res = await this.request(userId, "GET", `${CS}/rooms/${enc(roomId)}/joined_members`, null, null);
    const joined = res.joined;
    return joined !== null && typeof joined === "object" ? Object.keys(joined) : [];
  }

  async setDisplayName(userId: string, name: string): Promise<void> {
    await this.request(userId, "PUT", `${CS}/profile/${enc(userId)}/displayname`, null, {
      displayname: name,
    });
  }

  async setPresence(userId: string, presence: string, statusMsg?: string): Promise<void> {
    const body: Record<string, unknown> = { presence };
    if (statusMsg !== undefined) body.status_msg = statusMsg;
    await this.request(userId, "PUT", `${CS}/presence/${enc(userId)}/status`, null, body);
  }

  async setTyping(userId: string, roomId: string, typing: boolean, timeoutMs: number): Promise<void> {
    const body = typing ? { typing: true, timeout: timeoutMs } : { typing: false };
    await this.request(userId, "PUT", `${CS}/rooms/${enc(roomId)}/typing/${enc(userId)}`, null, body);
  }

  /** The homeserver's default room version (`/capabilities`), "1" when it does not say. Cached. */
  defaultRoomVersion(): Promise<string> {
    this.roomVersion ??= this.request(this.botUserId, "GET", `${CS}/capabilities`, null, null).then(
      (res) => {
        const caps = res.capabilities as { "m.room_versions"?: { default?: unknown } } | undefined;
        const v = caps?.["m.room_versions"]?.default;
        return typeof v === "string" ? v : "1";
      },
      (e: unknown) => {
        this.roomVersion = undefined;
        throw e;
      },
    );
    return this.roomVersion;
  }
}

function eventIdOf(res: Record<string, unknown>): string {
  if (typeof res.event_id !== "string") throw new Error("the homeserver returned no event_id");
  return res.event_id;
}

/** Waits `ms` (a timer that does not keep the process alive). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Retry policy: the delays between attempts (its length + 1 attempts in all). */
export interface RetryPolicy {
  delaysMs: readonly number[];
  /** After the listed delays, keep retrying with the last one (transient failures only). */
  forever?: boolean;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Default: a homeserver that is away (network, 5xx, rate limits) is retried until it is back —
 * the portal's queue waits, so nothing is skipped and order holds; the Skype cursor only moves
 * once a message is posted, so a restart meanwhile resumes from the same place.
 */
export const DEFAULT_RETRY: RetryPolicy = {
  delaysMs: [250, 500, 1000, 2000, 4000, 8000, 15000, 30000, 60000],
  forever: true,
};

/** Runs `fn`, retrying retryable Matrix failures per `policy`; other failures throw at once. */
export async function withRetry<T>(policy: RetryPolicy, fn: () => Promise<T>): Promise<T> {
  const wait = policy.sleep ?? sleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const delay =
        policy.delaysMs[attempt] ??
        (policy.forever && isHomeserverAway(e) ? policy.delaysMs.at(-1) : undefined);
      if (delay === undefined || !isRetryableMatrixError(e)) throw e;
      await wait(Math.max(delay, matrixErrorInfo(e).retryAfterMs ?? 0));
    }
  }
}
