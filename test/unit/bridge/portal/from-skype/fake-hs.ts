// SPDX-License-Identifier: Apache-2.0
/**
 * An in-memory homeserver for unit tests of the Skype → Matrix side. It answers the client-server
 * calls MatrixOps makes (through a fake Intent's `matrixClient.doRequest`) with the Synapse
 * behaviours that matter here: appservice txn ids cached by path only (not by `user_id`),
 * membership and power-level checks, `ts` honoured, unregistered puppets refused.
 */
import type { Intent } from "matrix-appservice-bridge";

export class FakeMatrixError extends Error {
  readonly body: { errcode: string; error: string };
  constructor(
    readonly statusCode: number,
    readonly errcode: string,
    error: string,
  ) {
    super(`${errcode}: ${error}`);
    this.body = { errcode, error };
  }
}

export interface FakeEvent {
  event_id: string;
  room_id: string;
  type: string;
  sender: string;
  state_key?: string;
  content: Record<string, unknown>;
  origin_server_ts: number;
  redacts?: string;
}

export interface FakeRoom {
  id: string;
  creator: string;
  state: Map<string, FakeEvent>;
  events: FakeEvent[];
}

export interface FakeCall {
  user: string;
  method: string;
  path: string;
  qs: Record<string, unknown> | null;
  body: unknown;
}

const sk = (type: string, key: string): string => `${type}\u0000${key}`;

export class FakeHomeserver {
  readonly rooms = new Map<string, FakeRoom>();
  readonly registered = new Set<string>();
  readonly profiles = new Map<string, string>();
  readonly presence = new Map<string, { presence: string; status_msg?: string }>();
  readonly presenceCalls: { user: string; presence: string }[] = [];
  readonly typing: { room: string; user: string; typing: boolean }[] = [];
  /** `m.read` receipts sent, in order. */
  readonly receipts: { room: string; user: string; eventId: string }[] = [];
  readonly calls: FakeCall[] = [];
  readonly txns = new Map<string, string>();
  /** Each is asked before a call; a returned error is thrown (once per rule match unless sticky). */
  readonly faults: { match: (c: FakeCall) => boolean; error: () => Error; times: number }[] = [];
  defaultRoomVersion = "11";
  private counter = 0;
  private clock = 1_700_000_000_000;

  constructor(readonly domain: string) {}

  intent(userId: string): Intent {
    const fake = {
      userId,
      matrixClient: {
        doRequest: (method: string, path: string, qs: Record<string, unknown> | null, body: unknown) =>
          this.request(userId, method, path, qs, body),
      },
      ensureRegistered: () => {
        this.registered.add(userId);
        return Promise.resolve("registered=true");
      },
    };
    return fake as unknown as Intent;
  }

  /**
   * Makes the next call matching `match` take effect and then fail with `error()` (a connection cut
   * after the server acted), forgetting every txn id as a restarted Synapse does for appservice users.
   */
  failAfter(match: (c: FakeCall) => boolean, error: () => Error): void {
    this.afterFaults.push({ match, error });
  }

  readonly afterFaults: { match: (c: FakeCall) => boolean; error: () => Error }[] = [];

  /** Makes the next `times` calls matching `match` fail with `error()`. */
  fail(match: (c: FakeCall) => boolean, error: () => Error, times = 1): void {
    this.faults.push({ match, error, times });
  }

  /** Every room message / state / redaction event, in order. */
  timeline(roomId: string): FakeEvent[] {
    return this.rooms.get(roomId)?.events ?? [];
  }

  messages(roomId: string): FakeEvent[] {
    return this.timeline(roomId).filter((e) => e.type === "m.room.message");
  }

  stateOf(roomId: string, type: string, key = ""): FakeEvent | undefined {
    return this.rooms.get(roomId)?.state.get(sk(type, key));
  }

  membership(roomId: string, user: string): string | undefined {
    const m = this.stateOf(roomId, "m.room.member", user)?.content.membership;
    return typeof m === "string" ? m : undefined;
  }

  joined(roomId: string): string[] {
    const room = this.rooms.get(roomId);
    if (!room) return [];
    return [...room.state.values()]
      .filter((e) => e.type === "m.room.member" && e.content.membership === "join")
      .map((e) => e.state_key!);
  }

  createCalls(): FakeCall[] {
    return this.calls.filter((c) => c.path.endsWith("/createRoom"));
  }

  // ---- request handling ----

  request(
    user: string,
    method: string,
    path: string,
    qs: Record<string, unknown> | null,
    body: unknown,
  ): Promise<unknown> {
    const call: FakeCall = { user, method, path, qs, body };
    this.calls.push(call);
    const fault = this.faults.find((f) => f.times > 0 && f.match(call));
    if (fault) {
      fault.times--;
      return Promise.reject(fault.error());
    }
    try {
      if (!this.registered.has(user)) throw new FakeMatrixError(403, "M_FORBIDDEN", "not registered");
      const result = this.route(call);
      const after = this.afterFaults.findIndex((f) => f.match(call));
      if (after >= 0) {
        const [f] = this.afterFaults.splice(after, 1);
        this.txns.clear();
        return Promise.reject(f!.error());
      }
      return Promise.resolve(result);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private route(c: FakeCall): unknown {
    const p = c.path.replace(/^\/_matrix\/client\/v3/, "");
    const b = (c.body ?? {}) as Record<string, unknown>;
    let m: RegExpExecArray | null;
    if (p === "/capabilities")
      return { capabilities: { "m.room_versions": { default: this.defaultRoomVersion } } };
    if (p === "/createRoom") return { room_id: this.createRoom(c.user, b) };
    if ((m = /^\/join\/([^/]+)$/.exec(p))) return this.member(c.user, dec(m[1]!), "join", b);
    if ((m = /^\/rooms\/([^/]+)\/(join|leave|invite|kick)$/.exec(p))) {
      // Like Synapse, /rooms/{id}/join keeps only `reason` of the body.
      const body = m[2] === "join" ? (typeof b.reason === "string" ? { reason: b.reason } : {}) : b;
      return this.member(c.user, dec(m[1]!), m[2]!, body);
    }
    if ((m = /^\/rooms\/([^/]+)\/send\/([^/]+)\/([^/]+)$/.exec(p))) {
      return this.send(c, dec(m[1]!), dec(m[2]!), b);
    }
    if ((m = /^\/rooms\/([^/]+)\/state\/([^/]+)\/([^/]*)$/.exec(p))) {
      const [room, type, key] = [dec(m[1]!), dec(m[2]!), dec(m[3]!)];
      if (c.method === "GET") return this.getState(c.user, room, type, key);
      this.requireJoined(room, c.user);
      this.requireLevel(room, c.user, type, true);
      return { event_id: this.addState(room, c.user, type, key, b).event_id };
    }
    if ((m = /^\/rooms\/([^/]+)\/redact\/([^/]+)\/([^/]+)$/.exec(p)))
      return this.redact(c, dec(m[1]!), dec(m[2]!), b);
    if ((m = /^\/rooms\/([^/]+)\/typing\/([^/]+)$/.exec(p))) {
      const room = dec(m[1]!);
      this.requireJoined(room, c.user);
      this.typing.push({ room, user: c.user, typing: b.typing === true });
      return {};
    }
    if ((m = /^\/rooms\/([^/]+)\/event\/([^/]+)$/.exec(p))) {
      const [room, id] = [dec(m[1]!), dec(m[2]!)];
      this.requireJoined(room, c.user);
      const ev = this.timeline(room).find((e) => e.event_id === id);
      if (!ev) throw new FakeMatrixError(404, "M_NOT_FOUND", "no such event");
      return ev;
    }
    if ((m = /^\/rooms\/([^/]+)\/receipt\/m\.read\/([^/]+)$/.exec(p))) {
      const room = dec(m[1]!);
      this.requireJoined(room, c.user);
      this.receipts.push({ room, user: c.user, eventId: dec(m[2]!) });
      return {};
    }
    if ((m = /^\/rooms\/([^/]+)\/messages$/.exec(p))) {
      const room = dec(m[1]!);
      this.requireJoined(room, c.user);
      const limit = typeof c.qs?.limit === "number" ? c.qs.limit : 10;
      return { chunk: [...this.timeline(room)].reverse().slice(0, limit) };
    }
    if ((m = /^\/rooms\/([^/]+)\/joined_members$/.exec(p))) {
      const room = dec(m[1]!);
      this.requireJoined(room, c.user);
      return { joined: Object.fromEntries(this.joined(room).map((u) => [u, {}])) };
    }
    if ((m = /^\/presence\/([^/]+)\/status$/.exec(p))) {
      const entry: { presence: string; status_msg?: string } = { presence: String(b.presence) };
      if (typeof b.status_msg === "string") entry.status_msg = b.status_msg;
      this.presence.set(c.user, entry);
      this.presenceCalls.push({ user: c.user, presence: entry.presence });
      return {};
    }
    if ((m = /^\/profile\/([^/]+)\/displayname$/.exec(p))) {
      this.profiles.set(c.user, String(b.displayname));
      return {};
    }
    throw new FakeMatrixError(404, "M_UNRECOGNIZED", `${c.method} ${p}`);
  }

  private room(roomId: string): FakeRoom {
    const r = this.rooms.get(roomId);
    if (!r) throw new FakeMatrixError(404, "M_NOT_FOUND", "no such room");
    return r;
  }

  private newEvent(
    room: string,
    sender: string,
    type: string,
    content: Record<string, unknown>,
    ts?: number,
  ): FakeEvent {
    this.clock += 1000;
    return {
      event_id: `$ev${++this.counter}`,
      room_id: room,
      type,
      sender,
      content,
      origin_server_ts: ts ?? this.clock,
    };
  }

  private addState(
    room: string,
    sender: string,
    type: string,
    key: string,
    content: Record<string, unknown>,
  ): FakeEvent {
    const r = this.room(room);
    const ev = { ...this.newEvent(room, sender, type, content), state_key: key };
    r.state.set(sk(type, key), ev);
    r.events.push(ev);
    return ev;
  }

  private createRoom(user: string, b: Record<string, unknown>): string {
    const id = `!room${++this.counter}:${this.domain}`;
    this.rooms.set(id, { id, creator: user, state: new Map(), events: [] });
    this.addState(id, user, "m.room.create", "", { creator: user, room_version: this.defaultRoomVersion });
    this.addState(id, user, "m.room.member", user, {
      membership: "join",
      displayname: this.profiles.get(user),
    });
    const override = (b.power_level_content_override ?? {}) as Record<string, unknown>;
    this.addState(id, user, "m.room.power_levels", "", {
      users: { [user]: 100 },
      users_default: 0,
      events_default: 0,
      state_default: 50,
      redact: 50,
      kick: 50,
      invite: 0,
      events: {},
      ...override,
    });
    for (const s of (b.initial_state ?? []) as {
      type: string;
      state_key?: string;
      content: Record<string, unknown>;
    }[]) {
      this.addState(id, user, s.type, s.state_key ?? "", s.content);
    }
    if (typeof b.name === "string") this.addState(id, user, "m.room.name", "", { name: b.name });
    if (typeof b.topic === "string") this.addState(id, user, "m.room.topic", "", { topic: b.topic });
    for (const target of (b.invite ?? []) as string[]) {
      const content: Record<string, unknown> = { membership: "invite" };
      if (b.is_direct === true) content.is_direct = true;
      this.addState(id, user, "m.room.member", target, content);
    }
    return id;
  }

  private level(room: string, user: string): number {
    const pl = this.stateOf(room, "m.room.power_levels")?.content ?? {};
    const users = (pl.users ?? {}) as Record<string, number>;
    return users[user] ?? (pl.users_default as number | undefined) ?? 0;
  }

  private requireLevel(room: string, user: string, type: string, state: boolean): void {
    const pl = this.stateOf(room, "m.room.power_levels")?.content ?? {};
    const events = (pl.events ?? {}) as Record<string, number>;
    const needed = events[type] ?? ((state ? pl.state_default : pl.events_default) as number) ?? 0;
    if (this.level(room, user) < needed) throw new FakeMatrixError(403, "M_FORBIDDEN", "power level too low");
  }

  private requireJoined(room: string, user: string): void {
    this.room(room);
    if (this.membership(room, user) !== "join")
      throw new FakeMatrixError(403, "M_FORBIDDEN", `${user} not in room`);
  }

  private member(user: string, room: string, action: string, b: Record<string, unknown>): unknown {
    this.room(room);
    const current = this.membership(room, user);
    switch (action) {
      case "join": {
        if (current !== "invite" && current !== "join")
          throw new FakeMatrixError(403, "M_FORBIDDEN", "not invited");
        const content: Record<string, unknown> = {
          membership: "join",
          displayname: this.profiles.get(user),
          ...b,
        };
        const prev = this.stateOf(room, "m.room.member", user);
        if (current === "join" && JSON.stringify(prev?.content) === JSON.stringify(content))
          return { room_id: room };
        this.addState(room, user, "m.room.member", user, content);
        return { room_id: room };
      }
      case "leave":
        if (current !== "join" && current !== "invite")
          throw new FakeMatrixError(403, "M_FORBIDDEN", "not in room");
        this.addState(room, user, "m.room.member", user, { membership: "leave" });
        return {};
      case "invite": {
        const target = String(b.user_id);
        this.requireJoined(room, user);
        if (this.membership(room, target) === "join")
          throw new FakeMatrixError(403, "M_FORBIDDEN", "already in the room");
        this.addState(room, user, "m.room.member", target, { membership: "invite" });
        return {};
      }
      default: {
        const target = String(b.user_id);
        this.requireJoined(room, user);
        if (this.level(room, user) < 50) throw new FakeMatrixError(403, "M_FORBIDDEN", "cannot kick");
        const content: Record<string, unknown> = { membership: "leave" };
        if (typeof b.reason === "string") content.reason = b.reason;
        this.addState(room, user, "m.room.member", target, content);
        return {};
      }
    }
  }

  private send(c: FakeCall, room: string, type: string, b: Record<string, unknown>): unknown {
    // Synapse keys appservice txn ids by path only: the puppet is not part of the key.
    const cached = this.txns.get(c.path);
    if (cached !== undefined) return { event_id: cached };
    this.requireJoined(room, c.user);
    const ts = typeof c.qs?.ts === "number" ? c.qs.ts : undefined;
    const ev = this.newEvent(room, c.user, type, b, ts);
    this.room(room).events.push(ev);
    this.txns.set(c.path, ev.event_id);
    return { event_id: ev.event_id };
  }

  private redact(c: FakeCall, room: string, eventId: string, b: Record<string, unknown>): unknown {
    const cached = this.txns.get(c.path);
    if (cached !== undefined) return { event_id: cached };
    this.requireJoined(room, c.user);
    const target = this.room(room).events.find((e) => e.event_id === eventId);
    if (!target) throw new FakeMatrixError(404, "M_NOT_FOUND", "no such event");
    if (target.sender !== c.user && this.level(room, c.user) < 50) {
      throw new FakeMatrixError(403, "M_FORBIDDEN", "cannot redact others' events");
    }
    const ev = { ...this.newEvent(room, c.user, "m.room.redaction", b), redacts: eventId };
    this.room(room).events.push(ev);
    this.txns.set(c.path, ev.event_id);
    return { event_id: ev.event_id };
  }

  private getState(user: string, room: string, type: string, key: string): unknown {
    const membership = this.membership(room, user);
    if (membership !== "join") throw new FakeMatrixError(403, "M_FORBIDDEN", "not in room");
    const ev = this.stateOf(room, type, key);
    if (!ev) throw new FakeMatrixError(404, "M_NOT_FOUND", "no state");
    return ev.content;
  }
}

function dec(s: string): string {
  return decodeURIComponent(s);
}
