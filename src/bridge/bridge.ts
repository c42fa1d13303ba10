// SPDX-License-Identifier: Apache-2.0
/**
 * The bridge core (mautrix-go bridgev2's `Bridge`): the services every portal, ghost and command
 * uses, built once, and the two entry points of events — a Skype session's events, and Matrix room
 * and ephemeral events — which it hands to the portal they belong to. Each portal then handles its
 * events one at a time, in order, in both directions (portal/portal.ts).
 */
import type { Intent } from "matrix-appservice-bridge";
import type { Config } from "../config/schema.js";
import type { Session, SessionManager } from "../sessions/types.js";
import type { Store } from "../store/types.js";
import { ConcurrencyLimit } from "../util/keyed-queue.js";
import { Logger, errorText } from "../util/logger.js";
import { isBridgeUser, puppetPerson } from "./ghosts/ids.js";
import { PuppetAvatars } from "./ghosts/avatars.js";
import { Puppets, type PuppetsOptions } from "./ghosts/puppets.js";
import { MatrixOps } from "./matrix/client.js";
import { DoublePuppets, isDoublePuppeted } from "./matrix/double-puppet.js";
import { MatrixMedia } from "./matrix/media.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./matrix/errors.js";
import { EmptyMentions } from "./matrix/mentions.js";
import { RoomMembers } from "./matrix/members.js";
import { BridgeMetrics } from "./metrics/registry.js";
import { asRoomEvent } from "./portal/matrix-event-kinds.js";
import { markReadAsUser } from "./portal/double-puppet-reads.js";
import { inviteAfterHistory } from "./portal/history.js";
import { handlePuppetInvite } from "./portal/matrix-invites.js";
import { RoomNotices } from "./portal/not-bridged.js";
import { DurableOutbox, type OutboxOptions } from "./portal/outbox.js";
import { ReadReceipts } from "./portal/receipts.js";
import { PortalRegistry } from "./portal/registry.js";
import { LinkedUsers } from "./user/linked-users.js";

/** How many users' own puppets are set up on Matrix at once (registration, profile). */
const SELF_SETUP_CONCURRENCY = 8;

const log = new Logger("bridge.core");

/** What the composition root (app.ts, or a test) provides. */
export interface BridgeEnv {
  readonly config: Config;
  readonly store: Store;
  readonly sessions: SessionManager;
  /** The bot's MXID (`@skypebot:domain`). */
  readonly botUserId: string;
  /** The appservice id from the registration (e.g. "skype"). */
  readonly appserviceId: string;
  /** Intent of the bot (no argument) or of a puppet / any user in our namespace. */
  intent(userId?: string): Intent;
  /** Sends a notice (or, with `alert`, an m.text that notifies) to a user's management room, if any. */
  notifyUser(
    mxid: string,
    text: string,
    opts?: { html?: string; alert?: boolean; replaces?: string },
  ): Promise<string | void>;
}

/** Tunables (tests shorten them). */
export interface BridgeOptions {
  /** Retries of Matrix sends (default: wait for the homeserver as long as it is away). */
  retry?: RetryPolicy;
  /** How long a puppet shows as typing without a new typing signal (default 20 s). */
  typingTimeoutMs?: number;
  now?: () => number;
  puppets?: PuppetsOptions;
  outbox?: OutboxOptions;
}

export class Bridge {
  readonly config: Config;
  readonly store: Store;
  readonly sessions: SessionManager;
  readonly botUserId: string;
  readonly appserviceId: string;
  /** Client-server calls as any of our users, with our own txn ids. */
  readonly matrix: MatrixOps;
  readonly members: RoomMembers;
  readonly puppets: Puppets;
  /** Puppet avatars from Skype (ghosts/avatars.ts). */
  readonly avatars: PuppetAvatars;
  /** Sessions setting up their own puppet on Matrix at once (each a few requests to Synapse). */
  private readonly selfSetup = new ConcurrencyLimit(SELF_SETUP_CONCURRENCY);
  readonly users: LinkedUsers;
  readonly portals: PortalRegistry;
  readonly outbox: DurableOutbox;
  /** Read receipts ↔ Skype consumption horizons (portal/receipts.ts). */
  readonly receipts: ReadReceipts;
  /** "⚠️ Your … was not bridged" notices. */
  readonly notices: RoomNotices;
  readonly retry: RetryPolicy;
  readonly typingTimeoutMs: number;
  readonly now: () => number;
  /** The `bridge_…` metrics (counted always; served only when `metrics.enabled`). */
  readonly metrics: BridgeMetrics;
  /** Acting as linked users' real accounts (double puppeting), when configured or given. */
  readonly doublePuppets: DoublePuppets;
  /** What is known of portal members' names, to leave out an empty `m.mentions` (matrix/mentions.ts). */
  readonly mentions: EmptyMentions;
  /** The homeserver's media repository, streamed (images and files both ways). */
  readonly media: MatrixMedia;
  private readonly attached = new WeakSet<Session>();

  constructor(
    readonly env: BridgeEnv,
    opts: BridgeOptions = {},
  ) {
    this.config = env.config;
    this.store = env.store;
    this.sessions = env.sessions;
    this.botUserId = env.botUserId;
    this.appserviceId = env.appserviceId;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.typingTimeoutMs = opts.typingTimeoutMs ?? 20_000;
    this.now = opts.now ?? Date.now;
    this.metrics = new BridgeMetrics(env);
    this.matrix = new MatrixOps((userId) => env.intent(userId), env.botUserId, this.metrics.matrixCall);
    this.doublePuppets = new DoublePuppets(env.config, env.store, env.appserviceId);
    this.matrix.useDoublePuppets(this.doublePuppets);
    this.mentions = new EmptyMentions(
      (roomId) => this.matrix.memberNames(roomId),
      (mxid) => isBridgeUser(this, mxid),
    );
    this.matrix.useEmptyMentions(this.mentions);
    this.doublePuppets.onRefused = (mxid, mode) => {
      const text =
        mode === "token"
          ? 'Your Matrix access token for double puppeting no longer works (was that session logged out?), so I forgot it. Your messages from other Skype devices appear as your "(you, on Skype)" puppet again; send `login-matrix` with a new token to turn it back on.'
          : "The homeserver refused this bridge's double puppeting, so your messages from other Skype devices appear as your \"(you, on Skype)\" puppet until the bridge's admin fixes it.";
      void env.notifyUser(mxid, text).catch(() => undefined);
    };
    this.members = new RoomMembers(this.matrix, env.botUserId);
    this.users = new LinkedUsers(env.store, env.sessions);
    this.puppets = new Puppets(this, opts.puppets);
    this.avatars = new PuppetAvatars(this);
    this.notices = new RoomNotices(env, (roomId) => this.portals.dmPuppetOf(roomId));
    this.portals = new PortalRegistry(this);
    this.outbox = new DurableOutbox(this, opts.outbox);
    this.media = new MatrixMedia({
      homeserverUrl: () => env.intent().matrixClient.homeserverUrl,
      token: () => env.intent().matrixClient.accessToken,
    });
    this.receipts = new ReadReceipts(this);
    // The user's read state from another Skype device becomes their own receipt (when double puppeted).
    this.receipts.ownSkypeHorizonHook = async (p, _h, row) => {
      await markReadAsUser(this, p.receiver, row);
    };
  }

  /**
   * Subscribes to a session's events (idempotent); call before it starts, so nothing it emits is
   * missed. Conversation events go to their portal's queue; presence and contacts to the ghosts.
   */
  attach(session: Session): void {
    if (this.attached.has(session)) return;
    this.attached.add(session);
    const user = this.users.get(session.mxid);
    user.linkOwnIdentities();
    const { portals, puppets } = this;
    // The user's own puppet gets its global profile now, long before it first joins a room: a
    // profile change makes Synapse rewrite the member events of rooms already joined, which would
    // overwrite the per-room "(you, on Skype)" name if it raced with the first join.
    // Bounded across the bridge: after a restart every session attaches within seconds, and 10,000
    // unbounded setups were 10,000 simultaneous requests to Synapse (7,319 reset; BENCHMARKS.md).
    void portals.queue.push(`self\n${session.mxid}`, () =>
      this.selfSetup.run(async () => {
        const me = this.users.get(session.mxid);
        if (me.identities.length > 0) await puppets.selfPuppet(me);
      }),
    );
    const route = this.metrics.timed(portals.routeSkypeEvent.bind(portals, session.mxid));
    session.on("message", (e) => route(e.conversation, { kind: "message", event: e }));
    session.on("edit", (e) => route(e.conversation, { kind: "edit", event: e }));
    session.on("delete", (e) => route(e.conversation, { kind: "delete", event: e }));
    session.on("typing", (e) => route(e.conversation, { kind: "typing", event: e }));
    session.on("unhandledMessage", (e) => route(e.conversation, { kind: "unhandled", event: e }));
    session.on("threadUpdate", (t) => route(t.id, { kind: "threadUpdate", event: t }));
    session.on("threadActivity", (e) => route(e.conversation, { kind: "threadActivity", event: e }));
    // Presence is per person across all linked users (ghosts/presence.ts): each session vouches
    // for what it sees while it runs. Its writes are bounded there; the queue entry only lets
    // drain() wait for them.
    const { presence } = puppets;
    const presenceWritten = (): void => void portals.queue.push("presence", () => presence.idle());
    session.on("presence", (p) => {
      if (p.self || this.users.get(session.mxid).isSelf(p.identity)) return;
      presence.report(session.mxid, p);
      presenceWritten();
    });
    session.on("state", (state) => {
      presence.sessionState(session.mxid, state);
      presenceWritten();
    });
    session.on("contacts", (contacts, info) => {
      void portals.queue.push(`contacts\n${session.mxid}`, async () => {
        this.users.get(session.mxid).linkOwnIdentities();
        await puppets.syncContacts(contacts, session.mxid);
      });
      // Avatars are re-read with the contacts (ETags make unchanged ones cheap; a routine re-read skips
      // recently asked ones: ghosts/avatars.ts), in a lane of their own.
      void portals.queue.push(`avatars\n${session.mxid}`, () =>
        this.avatars.syncAll(session, contacts, info),
      );
    });
    session.on("caughtUp", ({ messages }) => {
      // After a server outage every session catches up at once: a line each only when it found something.
      if (messages > 0) log.info("caught up with Skype", { user: session.mxid, messages });
      else log.debug("caught up with Skype", { user: session.mxid, messages });
      // Every contact online was re-announced before catch-up ended: the others are offline.
      presence.caughtUp(session.mxid);
      presenceWritten();
      // Rooms that got a first link's history now get their user (behind that history).
      inviteAfterHistory(this, session.mxid);
    });
    this.outbox.attach(session);
    this.receipts.attach(session);
    this.metrics.attach(session);
  }

  /**
   * A Matrix room event the management rooms and contact requests did not take: a linked user
   * inviting a puppet, or an event in a portal, which that portal handles in its order. Resolves
   * once it has been handled (the inbox marks it done then). Never rejects.
   */
  handleMatrixEvent(raw: unknown): Promise<void> {
    const ev = asRoomEvent(raw);
    if (!ev || isBridgeUser(this, ev.sender)) return Promise.resolve();
    // What the bridge itself sent as the user's real account (double puppeting) never goes back.
    if (isDoublePuppeted(ev.content, this.appserviceId)) return Promise.resolve();
    const portal = this.portals.forRoom(ev.room_id);
    if (ev.type === "m.room.member") {
      const target = ev.state_key;
      if (ev.content["membership"] !== "invite" || target === undefined) return Promise.resolve();
      if (puppetPerson(this, target) === undefined) return Promise.resolve();
      const task = (): Promise<void> => handlePuppetInvite(this, ev, target);
      // A room that is no portal yet may become one: its invites queue by room.
      return portal ? portal.enqueue(task) : this.portals.queue.push(`room\n${ev.room_id}`, task);
    }
    if (!portal) return Promise.resolve();
    return portal.enqueue(() => portal.handleMatrixEvent(ev));
  }

  /**
   * An ephemeral event: the linked user typing in a portal becomes Skype typing, their `m.read`
   * receipt the Skype read horizon (portal/receipts.ts). Never rejects.
   */
  handleEphemeral(raw: unknown): Promise<void> {
    try {
      const ev = raw as { type?: unknown; room_id?: unknown; content?: { user_ids?: unknown } } | null;
      if (ev?.type === "m.receipt") {
        this.receipts.handleReceiptEvent(ev);
        return Promise.resolve();
      }
      if (ev?.type !== "m.typing" || typeof ev.room_id !== "string") return Promise.resolve();
      const ids = Array.isArray(ev.content?.user_ids) ? ev.content.user_ids : [];
      this.portals.forRoom(ev.room_id)?.handleMatrixTyping(ids);
    } catch (e) {
      log.warn("could not forward typing", { error: errorText(e) });
    }
    return Promise.resolve();
  }

  /** Resolves once every event received so far has been handled (tests, shutdown). */
  drain(): Promise<void> {
    return this.portals.drain();
  }

  stop(): void {
    this.puppets.stop();
  }
}
