// SPDX-License-Identifier: Apache-2.0
/**
 * The Matrix client-server calls of the bridge, made as the bot or as a puppet through the
 * appservice (identity assertion, `?user_id=`). Every call goes through `doRequest` on the
 * intent's impersonating client so that we choose the transaction ids and `ts` ourselves
 * (matrix-conventions §0.1, §3.2, §3.3: bot-sdk's own txn ids collide across puppets).
 */
import type { Intent } from "matrix-appservice-bridge";
import { isUnregisteredUser, matrixErrorInfo } from "./errors.js";
import { markDoublePuppeted, type DoublePuppets } from "./double-puppet.js";
import type { EmptyMentions, RoomMemberName } from "./mentions.js";

const CS = "/_matrix/client/v3";
const enc = encodeURIComponent;

/** Membership of a user in a room as the homeserver reports it. */
export type Membership = "join" | "invite" | "leave" | "ban" | "knock";

/** Runs one client-server call (registration of its user included), e.g. to count it (metrics/). */
export type CallObserver = <T>(method: string, path: string, call: () => Promise<T>) => Promise<T>;

/** The Matrix calls the Skype → Matrix side needs, each made as a given user. */
export class MatrixOps {
  private readonly registered = new Set<string>();
  /** Users taken as registered without asking (an earlier run did), until a call succeeds. */
  private readonly assumed = new Set<string>();
  private roomVersion?: Promise<string>;
  /** Clients acting as linked users' real accounts (double puppeting); none: never. */
  private doublePuppets?: DoublePuppets;
  /** Leaves out an empty `m.mentions` where it changes nothing (mentions.ts); none: never. */
  private mentions?: EmptyMentions;

  /**
   * @param intentOf the bridge's intent factory (no argument: the bot).
   * @param botUserId the bot's MXID, mapped to the bot's own intent.
   * @param observe wraps every call (the bridge counts them by endpoint and outcome).
   */
  constructor(
    private readonly intentOf: (userId?: string) => Intent,
    readonly botUserId: string,
    private readonly observe: CallObserver = (_method, _path, call) => call(),
  ) {}

  private intent(userId: string): Intent {
    return userId === this.botUserId ? this.intentOf() : this.intentOf(userId);
  }

  /** Lets messages go out without an empty `m.mentions` where that changes no push (mentions.ts). */
  useEmptyMentions(mentions: EmptyMentions): void {
    this.mentions = mentions;
  }

  /** Lets calls made as a linked user's MXID go out as their real account (double-puppet.ts). */
  useDoublePuppets(doublePuppets: DoublePuppets): void {
    this.doublePuppets = doublePuppets;
  }

  private async request(
    userId: string,
    method: "GET" | "POST" | "PUT",
    path: string,
    qs: Record<string, unknown> | null,
    body: unknown,
  ): Promise<Record<string, unknown>> {
    const real = userId === this.botUserId ? undefined : this.doublePuppets?.clientFor(userId);
    if (real) {
      // The user's own account (double puppeting): never registered by us; what it sends is marked.
      const marked = markDoublePuppeted(path, body, this.doublePuppets!.source);
      const out = await this.observe(
        method,
        path,
        () => real.doRequest(method, path, qs, marked) as Promise<unknown>,
      );
      return out !== null && typeof out === "object" ? (out as Record<string, unknown>) : {};
    }
    const res = await this.observe(method, path, async () => {
      await this.register(userId);
      const call = (): Promise<unknown> => this.intent(userId).matrixClient.doRequest(method, path, qs, body);
      if (!this.assumed.has(userId)) return await call();
      try {
        const out = await call();
        this.assumed.delete(userId);
        return out;
      } catch (e) {
        if (!this.assumed.delete(userId) || !isUnregisteredUser(e)) throw e;
        // Synapse forgot the user (its database was replaced): register after all, then retry.
        this.registered.delete(userId);
        await this.register(userId);
        return await call();
      }
    });
    return res !== null && typeof res === "object" ? (res as Record<string, unknown>) : {};
  }

  /**
   * Takes `userId` as registered without asking Synapse (the store knows an earlier run registered
   * it). Should Synapse answer that it does not know the user, the first call registers it then.
   */
  assumeRegistered(userId: string): void {
    if (this.registered.has(userId)) return;
    this.registered.add(userId);
    this.assumed.add(userId);
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
    const body =
      this.mentions && type === "m.room.message" ? await this.mentions.trim(roomId, content) : content;
    const res = await this.request(
      userId,
      "PUT",
      `${CS}/rooms/${enc(roomId)}/send/${enc(type)}/${enc(txnId)}`,
      qs,
      body,
    );
    return eventIdOf(res);
  }

  /**
   * The newest of `userId`'s recent events in `roomId` (the last `limit`) that `match` accepts, or
   * undefined (also when the room cannot be read).
   */
  async findRecentEvent(
    userId: string,
    roomId: string,
    match: (event: { sender?: unknown; origin_server_ts?: unknown; content?: unknown }) => boolean,
    limit = 50,
  ): Promise<string | undefined> {
    try {
      const res = await this.request(
        userId,
        "GET",
        `${CS}/rooms/${enc(roomId)}/messages`,
        { dir: "b", limit },
        null,
      );
      const chunk = Array.isArray(res.chunk) ? (res.chunk as Record<string, unknown>[]) : [];
      const found = chunk.find((e) => e.sender === userId && match(e));
      return typeof found?.event_id === "string" ? found.event_id : undefined;
    } catch {
      return undefined;
    }
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

  /** `GET /rooms/{room}/event/{event}` as `userId`: the event (undefined when not found, 404). */
  async getEvent(
    userId: string,
    roomId: string,
    eventId: string,
  ): Promise<Record<string, unknown> | undefined> {
    try {
      return await this.request(
        userId,
        "GET",
        `${CS}/rooms/${enc(roomId)}/event/${enc(eventId)}`,
        null,
        null,
      );
    } catch (e) {
      if (matrixErrorInfo(e).status === 404) return undefined;
      throw e;
    }
  }

  /**
   * `POST /rooms/{room}/receipt/m.read/{event}` as `userId` (the path matrix-bot-sdk's
   * `sendReadReceipt` uses, through {@link request} so the call is counted like the others).
   */
  async sendReadReceipt(userId: string, roomId: string, eventId: string): Promise<void> {
    await this.request(userId, "POST", `${CS}/rooms/${enc(roomId)}/receipt/m.read/${enc(eventId)}`, null, {});
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

  /** The sender of an event as `userId` reads it, or undefined when it cannot be read. */
  async eventSender(userId: string, roomId: string, eventId: string): Promise<string | undefined> {
    try {
      const ev = await this.request(
        userId,
        "GET",
        `${CS}/rooms/${enc(roomId)}/event/${enc(eventId)}`,
        null,
        null,
      );
      return typeof ev.sender === "string" ? ev.sender : undefined;
    } catch {
      return undefined;
    }
  }

  /** The target's membership, or undefined when they never had one. */
  async membership(userId: string, roomId: string, target: string): Promise<Membership | undefined> {
    const state = await this.getState(userId, roomId, "m.room.member", target);
    const m = state?.membership;
    return typeof m === "string" ? (m as Membership) : undefined;
  }

  /** The room's members that have not left, with their names, as the bot sees them. */
  async memberNames(roomId: string): Promise<RoomMemberName[]> {
    const res = await this.request(
      this.botUserId,
      "GET",
      `${CS}/rooms/${enc(roomId)}/members`,
      { not_membership: "leave" },
      null,
    );
    const out: RoomMemberName[] = [];
    for (const e of Array.isArray(res.chunk) ? (res.chunk as unknown[]) : []) {
      const ev = e as {
        state_key?: unknown;
        content?: { membership?: unknown; displayname?: unknown };
      } | null;
      const userId = ev?.state_key;
      const membership = ev?.content?.membership;
      if (typeof userId !== "string" || typeof membership !== "string") continue;
      const displayname = ev?.content?.displayname;
      out.push({ userId, membership, ...(typeof displayname === "string" ? { displayname } : {}) });
    }
    return out;
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

  /** Sets the user's global avatar (`""` removes it). */
  async setAvatarUrl(userId: string, mxc: string): Promise<void> {
    await this.request(userId, "PUT", `${CS}/profile/${enc(userId)}/avatar_url`, null, { avatar_url: mxc });
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
