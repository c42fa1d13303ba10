// SPDX-License-Identifier: Apache-2.0
/** Fakes for the Matrix → Skype unit tests (not a test file itself). */
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { Intent } from "matrix-appservice-bridge";
import type { Config } from "../../../../../src/config/schema.js";
import { parseConfig } from "../../../../../src/config/index.js";
import type { BridgeEnv } from "../../../../../src/bridge/bridge.js";
import type {
  OutgoingMessage,
  Session,
  SessionEvents,
  SessionManager,
  SessionState,
} from "../../../../../src/sessions/types.js";
import { openStore, type SqliteStore } from "../../../../../src/store/index.js";

export const KEY = "0123456789abcdef".repeat(4);
export const ALICE = "@alice:example.org";
export const BOT = "@skypebot:example.org";
export const BOB_PUPPET = "@skype_8=3alive=3abob__1:example.org";
export const DM_ROOM = "!bobdm:example.org";
export const GROUP_ROOM = "!group:example.org";
export const THREAD = "19:0123456789abcdef0123456789abcdef@thread.skype";

/** The test configuration (fixture file, defaults applied). */
export function testConfig(): Config {
  const text = readFileSync(
    join(__dirname, "..", "..", "..", "..", "fixtures", "config", "minimal.yaml"),
    "utf8",
  );
  return parseConfig(text, { SKYPE_BRIDGE_TOKEN_KEY: KEY });
}

/** An in-memory store with alice linked and a DM portal with bob (person 8:live:bob_1). */
export function seededStore(t: TestContext, path = ":memory:"): SqliteStore {
  const store = openStore({ path, key: KEY });
  t.after(() => store.close());
  seed(store);
  return store;
}

/** Idempotent seed data (also for a store reopened on the same file). */
export function seed(store: SqliteStore): void {
  store.users.upsert(ALICE, { liveMri: "1:alice@hotmail.co.uk", skypeMri: "8:live:alice_1" });
  store.users.setRefreshToken(ALICE, "refresh-token-of-alice");
  store.persons.link(["8:live:bob_1", "1:bob@outlook.com"]);
  store.puppets.upsert("8:live:bob_1", BOB_PUPPET);
  store.portals.create({ roomId: DM_ROOM, receiver: ALICE, conversation: "8:live:bob_1", kind: "dm" });
  store.portals.create({ roomId: GROUP_ROOM, receiver: ALICE, conversation: THREAD, kind: "group" });
}

/** A promise with its settle functions. */
export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** One call to a send method of the fake session. */
export interface SentCall {
  method: "sendText" | "sendRichText" | "sendEmote" | "editMessage" | "deleteMessage";
  conversation: string;
  args: unknown[];
  clientMessageId: string;
  delivery: Deferred;
}

/** A session that records sends; deliveries are settled by the test (or at once with `autoDeliver`). */
export class FakeSession extends EventEmitter<SessionEvents> implements Session {
  readonly identities = ["1:alice@hotmail.co.uk", "8:live:alice_1"];
  readonly displayName = "Alice";
  state: SessionState = { kind: "connecting" };
  readonly sent: SentCall[] = [];
  readonly typing: { conversation: string; typing: boolean }[] = [];
  autoDeliver = true;

  constructor(readonly mxid = ALICE) {
    super();
  }

  /** Moves to connected and announces the end of catch-up. */
  connect(): void {
    this.state = { kind: "connected" };
    this.emit("state", this.state);
    this.emit("caughtUp", { messages: 0 });
  }

  private record(
    method: SentCall["method"],
    conversation: string,
    args: unknown[],
    cmid?: string,
  ): OutgoingMessage {
    const delivery = deferred();
    const clientMessageId = cmid ?? String(1000 + this.sent.length);
    this.sent.push({ method, conversation, args, clientMessageId, delivery });
    if (this.autoDeliver) delivery.resolve();
    return { clientMessageId, delivered: delivery.promise };
  }

  sendText(conversation: string, text: string, cmid?: string): OutgoingMessage {
    return this.record("sendText", conversation, [text], cmid);
  }
  sendRichText(conversation: string, html: string, cmid?: string): OutgoingMessage {
    return this.record("sendRichText", conversation, [html], cmid);
  }
  sendEmote(conversation: string, text: string, cmid?: string): OutgoingMessage {
    return this.record("sendEmote", conversation, [text], cmid);
  }
  editMessage(
    conversation: string,
    original: string,
    content: { format: "text" | "richtext"; body: string; emote?: boolean },
    cmid?: string,
  ): OutgoingMessage {
    return this.record("editMessage", conversation, [original, content], cmid);
  }
  deleteMessage(conversation: string, original: string, cmid?: string): OutgoingMessage {
    return this.record("deleteMessage", conversation, [original], cmid);
  }
  sendTyping(conversation: string, typing: boolean): boolean {
    this.typing.push({ conversation, typing });
    return this.state.kind === "connected";
  }
  setPresence(): Promise<void> {
    return Promise.resolve();
  }
  createThread(): Promise<never> {
    return Promise.reject(new Error("not used"));
  }
  addThreadMembers(): Promise<void> {
    return Promise.resolve();
  }
  removeThreadMember(): Promise<void> {
    return Promise.resolve();
  }
  setThreadTopic(): Promise<void> {
    return Promise.resolve();
  }
  acceptContactRequest(): Promise<void> {
    return Promise.resolve();
  }
  declineContactRequest(): Promise<void> {
    return Promise.resolve();
  }
  sendContactRequest(): Promise<void> {
    return Promise.resolve();
  }
  resyncContacts(): Promise<void> {
    return Promise.resolve();
  }
  contacts(): [] {
    return [];
  }
}

export class FakeSessions implements SessionManager {
  readonly map = new Map<string, Session>();
  private listeners: ((s: Session) => void)[] = [];

  /** Adds a session (replacing the user's previous one) and tells the listeners. */
  add(session: Session): void {
    this.map.set(session.mxid, session);
    for (const l of this.listeners) l(session);
  }
  startAll(): Promise<void> {
    return Promise.resolve();
  }
  link(): Promise<Session> {
    return Promise.reject(new Error("not used"));
  }
  unlink(): Promise<void> {
    return Promise.resolve();
  }
  get(mxid: string): Session | undefined {
    return this.map.get(mxid);
  }
  all(): Session[] {
    return [...this.map.values()];
  }
  onSession(listener: (session: Session) => void): void {
    this.listeners.push(listener);
  }
  stopAll(): Promise<void> {
    return Promise.resolve();
  }
}

/** A Matrix request made through a fake intent. */
export interface MatrixCall {
  userId: string;
  op: "join" | "leave" | "request";
  roomId: string;
  method?: string;
  path?: string;
  body?: unknown;
  reason?: string;
}

/** Fake intents recording what each user did; `failFor` users' requests throw M_FORBIDDEN. */
export class FakeMatrix {
  readonly calls: MatrixCall[] = [];
  readonly failFor = new Set<string>();
  /** What was sent to users' management rooms (`notifyUser`). */
  readonly notified: { mxid: string; text: string }[] = [];

  intent(userId = BOT): Intent {
    const fail = (): void => {
      if (this.failFor.has(userId)) throw Object.assign(new Error("forbidden"), { statusCode: 403 });
    };
    const fake = {
      userId,
      join: (roomId: string) => {
        fail();
        this.calls.push({ userId, op: "join", roomId });
        return Promise.resolve(roomId);
      },
      leave: (roomId: string, reason?: string) => {
        this.calls.push({ userId, op: "leave", roomId, reason });
        return Promise.resolve({});
      },
      matrixClient: {
        doRequest: (method: string, path: string, _qs: unknown, body: unknown) => {
          fail();
          const roomId = decodeURIComponent(path.split("/")[5] ?? "");
          this.calls.push({ userId, op: "request", roomId, method, path, body });
          return Promise.resolve({ event_id: `$notice${this.calls.length}` });
        },
      },
    };
    return fake as unknown as Intent;
  }

  /** Bodies of the messages posted (PUT …/send/…), in order. */
  posted(): { userId: string; roomId: string; path: string; content: Record<string, unknown> }[] {
    return this.calls
      .filter((c) => c.op === "request")
      .map((c) => ({
        userId: c.userId,
        roomId: c.roomId,
        path: c.path!,
        content: c.body as Record<string, unknown>,
      }));
  }
}

/** Records the DM adoptions the bridge decides on (adoption itself is tested with the portals). */
export class FakePortals {
  readonly adopted: { receiver: string; roomId: string; puppet: string }[] = [];

  adoptDmRoom(receiver: string, roomId: string, puppet: string): Promise<string> {
    this.adopted.push({ receiver, roomId, puppet });
    return Promise.resolve(roomId);
  }
}

/** A bridge environment over the given store and fakes. */
export function fakeContext(store: SqliteStore, sessions: FakeSessions, matrix: FakeMatrix): BridgeEnv {
  return {
    config: testConfig(),
    store,
    sessions,
    botUserId: BOT,
    appserviceId: "skype",
    intent: (userId?: string) => matrix.intent(userId),
    notifyUser: (mxid, text) => {
      matrix.notified.push({ mxid, text });
      return Promise.resolve();
    },
  };
}

/** A room event as Synapse pushes it. */
export function roomEvent(
  eventId: string,
  content: Record<string, unknown>,
  opts: {
    room?: string;
    sender?: string;
    type?: string;
    ts?: number;
    stateKey?: string;
    redacts?: string;
  } = {},
): Record<string, unknown> {
  const ev: Record<string, unknown> = {
    event_id: eventId,
    room_id: opts.room ?? DM_ROOM,
    sender: opts.sender ?? ALICE,
    type: opts.type ?? "m.room.message",
    origin_server_ts: opts.ts ?? 1_700_000_000_000,
    content,
  };
  if (opts.stateKey !== undefined) ev.state_key = opts.stateKey;
  if (opts.redacts !== undefined) ev.redacts = opts.redacts;
  return ev;
}

/** Plain text content. */
export function text(body: string, msgtype = "m.text"): Record<string, unknown> {
  return { msgtype, body };
}
