// SPDX-License-Identifier: Apache-2.0
/** Test fixtures: a BridgeContext over a real in-memory store and the fake homeserver, fake sessions. */
import { EventEmitter } from "node:events";
import type { Config } from "../../../../../src/config/schema.js";
import { Bridge, type BridgeEnv } from "../../../../../src/bridge/bridge.js";
import type { Puppets, PuppetsOptions } from "../../../../../src/bridge/ghosts/puppets.js";
import type { PortalRegistry } from "../../../../../src/bridge/portal/registry.js";
import type {
  MessageEvent,
  Session,
  SessionEvents,
  SessionManager,
  SessionState,
} from "../../../../../src/sessions/types.js";
import { openStore, type Store } from "../../../../../src/store/index.js";
import { FakeHomeserver } from "./fake-hs.js";

export const DOMAIN = "localhost";
export const BOT = `@skypebot:${DOMAIN}`;
export const ALICE = `@alice:${DOMAIN}`;
export const ALICE_LIVE = "1:alice@hotmail.co.uk";
export const ALICE_SKYPE = "8:live:alice_1";
export const BOB_LIVE = "1:bob@outlook.com";
export const BOB_SKYPE = "8:live:bob_1";
export const BOB_PUPPET = `@skype_8=3alive=3abob__1:${DOMAIN}`;
export const ALICE_PUPPET = `@skype_1=3aalice=40hotmail.co.uk:${DOMAIN}`;

/** A session whose events the test emits by hand. */
export class FakeSession extends EventEmitter<SessionEvents> {
  state: SessionState = { kind: "connected" };
  readonly accepted: string[] = [];
  readonly declined: string[] = [];
  failAccept?: Error;

  constructor(
    readonly mxid: string,
    readonly identities: readonly string[],
    readonly displayName: string,
  ) {
    super();
  }

  acceptContactRequest(mri: string): Promise<void> {
    if (this.failAccept) return Promise.reject(this.failAccept);
    this.accepted.push(mri);
    return Promise.resolve();
  }

  declineContactRequest(mri: string): Promise<void> {
    this.declined.push(mri);
    return Promise.resolve();
  }

  asSession(): Session {
    return this as unknown as Session;
  }
}

export interface TestBed {
  ctx: BridgeEnv;
  bridge: Bridge;
  store: Store;
  hs: FakeHomeserver;
  notices: { mxid: string; text: string; alert: boolean }[];
  sessions: Map<string, Session>;
  puppets: Puppets;
  portals: PortalRegistry;
  /** The bridge core as the Skype → Matrix side: `attach(session)`, `drain()`. */
  s2m: Bridge;
  alice: FakeSession;
}

/** A bed with alice linked (both identities) and her session attached. `store`/`hs` may be reused. */
export function testBed(
  opts: {
    store?: Store;
    hs?: FakeHomeserver;
    attach?: boolean;
    presence?: boolean;
    /** Puppet options (presence refresh, write concurrency, …); refresh is off unless set. */
    puppets?: PuppetsOptions;
  } = {},
): TestBed {
  const store = opts.store ?? openStore({ path: ":memory:" });
  store.users.upsert(ALICE, {
    liveMri: ALICE_LIVE,
    skypeMri: ALICE_SKYPE,
    skypeName: "live:alice_1",
    accountEmail: "alice@hotmail.co.uk",
  });
  const hs = opts.hs ?? new FakeHomeserver(DOMAIN);
  const notices: TestBed["notices"] = [];
  const sessions = new Map<string, Session>();
  const manager = {
    get: (mxid: string) => sessions.get(mxid),
    all: () => [...sessions.values()],
  } as unknown as SessionManager;
  const config = {
    homeserver: { url: "http://127.0.0.1:1", domain: DOMAIN },
    puppets: {
      localpart_template: "skype_{id}",
      display_name_template: "{name} (Skype)",
      presence: opts.presence ?? true,
    },
    double_puppet: { secrets: {} },
    encryption: { enabled: false, default: false, require: false },
  } as unknown as Config;
  const ctx: BridgeEnv = {
    config,
    store,
    sessions: manager,
    botUserId: BOT,
    appserviceId: "skype",
    intent: (userId?: string) => hs.intent(userId ?? BOT),
    notifyUser: (mxid, text, o) => {
      notices.push({ mxid, text, alert: o?.alert === true });
      return Promise.resolve();
    },
  };
  hs.registered.add(BOT);
  const bridge = new Bridge(ctx, {
    puppets: { presenceRefreshMs: 0, ...opts.puppets },
    retry: { delaysMs: [1, 1, 1], sleep: () => Promise.resolve() },
  });
  const { puppets, portals } = bridge;
  const s2m = bridge;
  const alice = new FakeSession(ALICE, [ALICE_LIVE, ALICE_SKYPE], "Alice Liddell");
  sessions.set(ALICE, alice.asSession());
  if (opts.attach !== false) s2m.attach(alice.asSession());
  return { ctx, bridge, store, hs, notices, sessions, puppets, portals, s2m, alice };
}

/** Links one more Matrix user (their `1:` and `8:` identities) and attaches their fake session. */
export function linkUser(
  bed: TestBed,
  mxid: string,
  identities: { live: string; skype: string },
  displayName: string,
): FakeSession {
  bed.store.users.upsert(mxid, {
    liveMri: identities.live,
    skypeMri: identities.skype,
    skypeName: identities.skype.slice(2),
  });
  const session = new FakeSession(mxid, [identities.live, identities.skype], displayName);
  bed.sessions.set(mxid, session.asSession());
  bed.bridge.attach(session.asSession());
  return session;
}

let cmid = 1000;
let mid = 1_700_000_000_000;

/** A live text message from `from` in `conversation` (defaults: bob to alice, 1:1). */
export function message(over: Partial<MessageEvent> & { body: string }): MessageEvent {
  const sender = over.sender ?? BOB_SKYPE;
  const m: MessageEvent = {
    conversation: over.conversation ?? sender,
    sender,
    fromMe: false,
    messageId: String(++mid),
    clientMessageId: String(++cmid),
    arrivalTime: "2024-05-01T10:00:00Z",
    displayName: "Bob Builder",
    source: "live",
    messageType: "Text",
    format: "text",
    emote: false,
    ...over,
  };
  if (over.cursor === undefined && m.messageId !== undefined) {
    m.cursor = { conversation: m.conversation, messageId: m.messageId };
  }
  return m;
}

/** Waits until `check` is truthy (polling the event loop; no fixed sleeps). */
export async function until<T>(
  check: () => T | undefined | false | null,
  what: string,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
