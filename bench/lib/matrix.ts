// SPDX-License-Identifier: Apache-2.0
/**
 * A minimal Matrix client for the benchmarks: plain fetch against the client-server API and one
 * long-polling /sync loop that stamps every timeline event with the time its /sync response
 * arrived. The same code is the human of the bridge path and both clients of the baseline, so the
 * two are measured alike.
 */
import { performance } from "node:perf_hooks";

export interface SyncedEvent {
  roomId: string;
  eventId: string;
  type: string;
  sender: string;
  content: Record<string, unknown>;
  /** performance.now() when the /sync response holding it had been read. */
  at: number;
}

export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Lazy members, no presence, account data or receipts: only what the benchmarks read. */
const FILTER = JSON.stringify({
  presence: { types: [] },
  account_data: { types: [] },
  room: {
    timeline: { limit: 2000 },
    state: { lazy_load_members: true },
    ephemeral: { types: [] },
    account_data: { types: [] },
  },
});

interface SyncResponse {
  next_batch: string;
  rooms?: {
    join?: Record<
      string,
      { timeline?: { limited?: boolean; events?: Array<Record<string, unknown>> } } | undefined
    >;
    invite?: Record<string, unknown>;
  };
}

export class MatrixUser {
  private txn = 0;
  private since?: string;
  /** The current /sync request's. */
  private abort?: AbortController;
  /** The sync loop's: aborted by stop(). */
  private stopper?: AbortController;
  private loop?: Promise<void>;
  private readonly listeners: Array<(e: SyncedEvent) => void> = [];
  /** Rooms this user was invited to, in the order seen. */
  readonly invites: string[] = [];
  /** Timeline gaps (a /sync answer with `limited`): events may have been skipped. */
  gaps = 0;
  /** Consecutive /sync failures (the loop retries after a pause). */
  syncErrors = 0;

  constructor(
    readonly homeserver: string,
    readonly userId: string,
    private readonly accessToken: string,
    /** Appservice users act through the AS token and `user_id`. */
    private readonly asUser = false,
  ) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    const sep = path.includes("?") ? "&" : "?";
    const url = `${this.homeserver}${path}${this.asUser ? `${sep}user_id=${encodeURIComponent(this.userId)}` : ""}`;
    const res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${this.accessToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    const text = await res.text();
    const json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (!res.ok) {
      throw new MatrixError(
        res.status,
        json.errcode as string | undefined,
        `${method} ${path.split("?")[0]} → ${res.status} ${JSON.stringify(json)}`,
      );
    }
    return json as T;
  }

  /** Sends an m.text message; resolves with its event id once the homeserver answered. */
  async sendText(roomId: string, body: string): Promise<string> {
    const txnId = `b${process.pid}.${Date.now()}.${++this.txn}`;
    const r = await this.request<{ event_id: string }>(
      "PUT",
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txnId}`,
      { msgtype: "m.text", body },
    );
    return r.event_id;
  }

  async createRoom(opts: Record<string, unknown>): Promise<string> {
    const r = await this.request<{ room_id: string }>("POST", "/_matrix/client/v3/createRoom", opts);
    return r.room_id;
  }

  async join(roomId: string): Promise<void> {
    await this.request("POST", `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {});
  }

  /** Calls `fn` for every timeline event of every later /sync answer. */
  onEvent(fn: (e: SyncedEvent) => void): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Runs one /sync to learn the position, then long-polls until stop(). */
  async startSync(): Promise<void> {
    if (this.loop) return;
    await this.syncOnce(0);
    const stopped = new AbortController();
    this.stopper = stopped;
    this.loop = (async () => {
      while (!stopped.signal.aborted) {
        // A signal of its own for each request: undici's fetch leaves its abort listener on the
        // signal until a GC, and one long-lived signal collected thousands in a burst
        // (MaxListenersExceededWarning in the bench's own process).
        this.abort = new AbortController();
        try {
          await this.syncOnce(30_000, this.abort.signal);
          this.syncErrors = 0;
        } catch (e) {
          if (stopped.signal.aborted) return;
          this.syncErrors++;
          if (this.syncErrors > 100) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    })();
    this.loop.catch(() => undefined);
  }

  stop(): void {
    this.stopper?.abort();
    this.abort?.abort();
  }

  private async syncOnce(timeout: number, signal?: AbortSignal): Promise<void> {
    const q = new URLSearchParams({ timeout: String(timeout), filter: FILTER });
    if (this.since) q.set("since", this.since);
    const r = await this.request<SyncResponse>(
      "GET",
      `/_matrix/client/v3/sync?${q.toString()}`,
      undefined,
      signal,
    );
    const at = performance.now();
    const first = this.since === undefined;
    this.since = r.next_batch;
    for (const roomId of Object.keys(r.rooms?.invite ?? {}))
      if (!this.invites.includes(roomId)) this.invites.push(roomId);
    if (first) return;
    for (const [roomId, room] of Object.entries(r.rooms?.join ?? {})) {
      if (room?.timeline?.limited) this.gaps++;
      for (const ev of room?.timeline?.events ?? []) {
        const e: SyncedEvent = {
          roomId,
          eventId: String(ev.event_id),
          type: String(ev.type),
          sender: String(ev.sender),
          content: (ev.content ?? {}) as Record<string, unknown>,
          at,
        };
        for (const l of this.listeners) l(e);
      }
    }
  }
}

/** Polls `check` every `intervalMs` until truthy; throws after `timeoutMs` naming `what`. */
export async function until<T>(
  check: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  what: string,
  timeoutMs: number,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
