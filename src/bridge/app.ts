// SPDX-License-Identifier: Apache-2.0
/**
 * The bridge's composition root: the store, the sessions (one Skype connection per linked user),
 * the Matrix connector, the bridge core (portals, ghosts, outbox) and the user-facing parts
 * (management rooms, commands, contact requests, state notices). main.ts builds one and starts it.
 *
 * A Matrix room event goes: appservice → durable inbox → management rooms (commands) → contact
 * request rooms → the bridge core, which hands it to its portal. The connector hands events over in
 * the order Synapse sent them, and the inbox routes the events of a room one at a time, so they
 * reach their portal's queue in that order.
 */
import type { WeakEvent } from "matrix-appservice-bridge";
import type { Config } from "../config/schema.js";
import { SkypeSessionManager } from "../sessions/session-manager.js";
import type { Store } from "../store/types.js";
import { Logger, errorText } from "../util/logger.js";
import { Bridge } from "./bridge.js";
import { MatrixConnector } from "./matrix/connector.js";
import type { MatrixEventJson } from "./matrix/appservice.js";
import { Inbox, type Dispatched } from "./matrix/inbox.js";
import type { Registration } from "./matrix/registration.js";
import { Observability } from "./metrics/serve.js";
import { failureReason, subjectOf } from "./portal/not-bridged.js";
import { CommandDispatcher } from "./user/commands/dispatcher.js";
import { ContactRequests } from "./user/contact-requests.js";
import type { ManagementRooms } from "./user/management.js";
import { noticeContent } from "./user/reply-format.js";
import { UserFacing } from "./user/setup.js";
import { StateNotices } from "./user/state-notices.js";

const log = new Logger("bridge.app");

export interface BridgeAppOptions {
  config: Config;
  registration: Registration;
  store: Store;
  version: string;
}

export class BridgeApp {
  readonly matrix: MatrixConnector;
  readonly sessions: SkypeSessionManager;
  readonly core: Bridge;
  readonly dispatcher = new CommandDispatcher();
  private readonly management: ManagementRooms;
  private user!: UserFacing;
  private readonly inbox: Inbox;
  private readonly stateNotices: StateNotices;
  private readonly contactRequests: ContactRequests;
  private readonly observability: Observability;

  constructor(opts: BridgeAppOptions) {
    const { store, config } = opts;
    this.sessions = new SkypeSessionManager({ config, store });
    this.matrix = new MatrixConnector({
      config,
      registration: opts.registration,
      botProfile: {
        get: () => store.meta.get("bridge.bot_display_name"),
        set: (name) => store.meta.set("bridge.bot_display_name", name),
      },
      accept: (txnId, events) => {
        // A name a message may now match (mentions.ts): seen before anything else of the transaction.
        this.core.mentions.observe(events);
        return this.inbox.accept(txnId, events);
      },
      onEvent: (event) => this.inbox.handle(event, (e) => this.routeClear(e)),
      onEphemeral: (event) => this.core.handleEphemeral(event),
    });
    const matrix = this.matrix;
    this.core = new Bridge({
      config,
      store,
      sessions: this.sessions,
      botUserId: matrix.botUserId,
      appserviceId: opts.registration.id,
      intent: (userId) => matrix.intent(userId),
      notifyUser: async (mxid, text, o = {}) => {
        const roomId = store.users.get(mxid)?.managementRoomId;
        if (!roomId) return;
        const content = noticeContent(text, o.html, o.alert ? "m.text" : "m.notice");
        const sent = (await matrix
          .intent()
          .sendMessage(roomId, o.replaces ? editOf(o.replaces, content) : content)) as
          { event_id?: unknown } | undefined;
        return typeof sent?.event_id === "string" ? sent.event_id : undefined;
      },
    });
    const core = this.core;
    this.inbox = new Inbox(core, { onFailed: (event, e) => this.reportGivenUp(event, e) });
    this.contactRequests = new ContactRequests(core);
    this.stateNotices = new StateNotices(core.env);
    this.management = this.managementRooms(opts);
    this.observability = new Observability(config, opts.version, core);
    // Listeners go on before each session starts, so nothing it emits is missed.
    this.sessions.onSession((session) => {
      this.stateNotices.attach(session);
      core.attach(session);
      this.contactRequests.attach(session);
      this.user.attach(session);
    });
  }

  /** The management rooms, commands, bridge states and provisioning API (user/setup.ts). */
  private managementRooms(opts: BridgeAppOptions): ManagementRooms {
    const { sessions, matrix, core, contactRequests, dispatcher } = this;
    this.user = new UserFacing({ ...opts, sessions, matrix, core, contactRequests, dispatcher });
    return this.user.management;
  }

  /**
   * Routes one Matrix room event: management rooms first, then contact requests, then portals. An
   * event of a portal is done routing once it is in the portal's queue (its handling is left to
   * wait for); any other is handled by then, since a room that is no portal yet may become one (a
   * puppet invited to a DM) and its next event must find the portal.
   */
  private async route(event: WeakEvent): Promise<Dispatched | void> {
    this.user.onMatrixEvent(event.sender);
    if (event.type === "m.room.message" && this.isCommand(event)) {
      // Only a command's start is in line: it may run long (a sign-in), and the next one may be
      // the `cancel` that stops it.
      return { handled: this.management.onMessage(event).then(() => undefined) };
    }
    if (event.type === "m.room.member" && (await this.management.onMembership(event))) return;
    if (event.type === "m.room.message" && (await this.management.onMessage(event))) return;
    // Users without permission get nothing from the bridge beyond the refusal of their invite.
    if (!this.management.permitted(event.sender)) return;
    if (await this.contactRequests.onRoomEvent(event)) return;
    const isPortal = this.core.portals.forRoom(event.room_id) !== undefined;
    const handled = this.core.handleMatrixEvent(event);
    if (isPortal) return { handled };
    await handled;
  }

  /**
   * Routes an event in the clear: an encrypted one is decrypted first (end-to-bridge encryption),
   * in its room's lane, so decrypted events keep their place in the room's order; the inbox keeps
   * the encrypted form, and a replay decrypts it again. With `encryption.require`, an unencrypted
   * message in a portal is not bridged and its sender is told.
   */
  private async routeClear(event: MatrixEventJson): Promise<Dispatched | void> {
    const crypto = this.matrix.crypto;
    const { event_id: eventId, room_id: roomId, sender } = event;
    const target =
      eventId !== undefined && roomId !== undefined && typeof sender === "string"
        ? { roomId, eventId, sender }
        : undefined;
    if (event.type === "m.room.encrypted" && crypto) {
      let clear: MatrixEventJson;
      try {
        clear = await crypto.decrypt(event);
      } catch (e) {
        log.warn("could not decrypt an event", { event: eventId, room: roomId, error: errorText(e) });
        if (target && this.core.portals.forRoom(target.roomId) !== undefined)
          await this.core.notices.notBridged(
            target,
            "message",
            "the bridge could not decrypt it (its key never reached the bridge's device).",
          );
        return;
      }
      return this.route(clear as WeakEvent);
    }
    if (
      this.core.config.encryption.require &&
      event.type === "m.room.message" &&
      target &&
      this.core.portals.forRoom(target.roomId) !== undefined
    ) {
      log.info("an unencrypted message in a portal is not bridged (encryption.require)", { event: eventId });
      await this.core.notices.notBridged(
        target,
        subjectOf(event) ?? "message",
        "this bridge only bridges encrypted messages (encryption.require); turn on encryption in this room.",
      );
      return;
    }
    return this.route(event as WeakEvent);
  }

  /** True for a message of a user in their own management room (ManagementRooms takes it). */
  private isCommand(event: WeakEvent): boolean {
    return this.core.store.users.getByManagementRoom(event.room_id)?.mxid === event.sender;
  }

  /** Tells the sender of an event the inbox gave up on (its routing kept failing). */
  private reportGivenUp(event: MatrixEventJson, error: unknown): Promise<void> {
    const subject = subjectOf(event);
    const { event_id: eventId, room_id: roomId, sender } = event;
    if (subject === undefined || eventId === undefined || roomId === undefined || typeof sender !== "string")
      return Promise.resolve();
    return this.core.notices.notBridged({ roomId, eventId, sender }, subject, failureReason(error));
  }

  async start(port: number): Promise<void> {
    await this.matrix.start(port);
    await this.observability.start(this.matrix, port);
    this.user.mountProvisioning(this.matrix.bridge.appService.expressApp);
    // Events stored before a crash or restart go first, in order, through the same path.
    void this.inbox
      .replay((e) => this.routeClear(e))
      .catch((e: unknown) => log.error("replaying stored events failed", { error: errorText(e) }));
    // Sessions start in the background: a slow Skype server must not delay the appservice.
    void this.sessions
      .startAll()
      .then(() => this.observability.readiness.sessionsStarted())
      .catch((e: unknown) => log.error("starting sessions failed", { error: errorText(e) }));
  }

  async stop(): Promise<void> {
    this.stateNotices.stop();
    this.user.stop();
    this.core.stop();
    await this.sessions
      .stopAll()
      .catch((e: unknown) => log.warn("stopping sessions failed", { error: errorText(e) }));
    // Let queued work finish, but never hold a shutdown for long: what is left is in the inbox and
    // outbox, and the Skype cursors have not moved past it.
    await Promise.race([this.core.drain(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    await this.observability.stop();
    await this.matrix.stop();
  }
}

/** An `m.replace` edit of `eventId` whose new content is `content` (the fallback body starred). */
function editOf(eventId: string, content: Record<string, unknown>): Record<string, unknown> {
  const edit: Record<string, unknown> = {
    ...content,
    body: `* ${String(content.body)}`,
    "m.new_content": content,
    "m.relates_to": { rel_type: "m.replace", event_id: eventId },
  };
  if (typeof content.formatted_body === "string") edit.formatted_body = `* ${content.formatted_body}`;
  return edit;
}
