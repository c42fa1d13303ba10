// SPDX-License-Identifier: Apache-2.0
/**
 * The bridge's composition root: the store, the sessions (one Skype connection per linked user),
 * the Matrix side (SkypeBridge) and the handlers that connect them. main.ts builds one and starts it.
 */
import type { Config } from "../config/schema.js";
import { SkypeSessionManager } from "../sessions/session-manager.js";
import type { Store } from "../store/types.js";
import { endpointsFromConfig } from "../sessions/setup.js";
import { Logger, errorText } from "../util/logger.js";
import type { WeakEvent } from "matrix-appservice-bridge";
import { AccountCommands } from "./commands/account.js";
import { ContactCommands } from "./commands/contacts.js";
import { ContactRequests } from "./contact-requests.js";
import type { BridgeContext } from "./context.js";
import { Inbox } from "./inbox.js";
import { managementRoomsFromStore } from "./management-store.js";
import { MatrixToSkype } from "./matrix-to-skype.js";
import { DurableOutbox } from "./outbox.js";
import { Portals } from "./portals.js";
import { Puppets } from "./puppets.js";
import type { Registration } from "./registration.js";
import { SkypeBridge } from "./skype-bridge.js";
import { SkypeToMatrix } from "./skype-to-matrix.js";
import { StateNotices } from "./state-notices.js";

const log = new Logger("bridge.app");

export interface BridgeAppOptions {
  config: Config;
  registration: Registration;
  store: Store;
  version: string;
}

export class BridgeApp {
  readonly matrix: SkypeBridge;
  readonly sessions: SkypeSessionManager;
  readonly ctx: BridgeContext;
  private readonly account: AccountCommands;
  private readonly inbox: Inbox;
  private readonly puppets: Puppets;
  private readonly portals: Portals;
  private readonly skypeToMatrix: SkypeToMatrix;
  private readonly matrixToSkype: MatrixToSkype;
  private readonly stateNotices: StateNotices;
  private readonly contactRequests: ContactRequests;

  constructor(private readonly opts: BridgeAppOptions) {
    const { store, config } = opts;
    this.sessions = new SkypeSessionManager({ config, store });
    this.account = new AccountCommands({
      endpoints: endpointsFromConfig(config),
      sessions: this.sessions,
      store,
      redact: async (roomId, eventId, reason) => {
        await this.matrix.bridge.getIntent().matrixClient.redactEvent(roomId, eventId, reason);
      },
    });
    const contactCommands = new ContactCommands({
      sessions: this.sessions,
      portals: () => this.portals,
      invite: async (puppet, roomId, userId) => {
        await this.matrix.bridge.getIntent(puppet).invite(roomId, userId);
      },
    });
    this.matrix = new SkypeBridge({
      config,
      registration: opts.registration,
      version: opts.version,
      managementStore: managementRoomsFromStore(store),
      botProfile: {
        get: () => store.meta.get("bridge.bot_display_name"),
        set: (name) => store.meta.set("bridge.bot_display_name", name),
      },
      accept: (txnId, events) => this.inbox.accept(txnId, events),
      handleEvent: (event, route) => this.inbox.handle(event, (e) => route(e as WeakEvent)),
      onRoomEvent: (event) => this.onRoomEvent(event),
      onEphemeral: (event) => this.matrixToSkype.onEphemeral(event),
      commands: () => [...this.account.commands(), ...contactCommands.commands()],
      intercept: (ctx, body) => this.account.intercept(ctx, body),
    });
    const matrix = this.matrix;
    this.ctx = {
      config,
      store,
      sessions: this.sessions,
      botUserId: matrix.botUserId,
      appserviceId: opts.registration.id,
      intent: (userId) => matrix.bridge.getIntent(userId),
      notifyUser: async (mxid, text, o = {}) => {
        const roomId = store.users.get(mxid)?.managementRoomId;
        if (!roomId) return;
        const content: Record<string, unknown> = { msgtype: o.alert ? "m.text" : "m.notice", body: text };
        if (o.html) Object.assign(content, { format: "org.matrix.custom.html", formatted_body: o.html });
        await matrix.bridge.getIntent().sendMessage(roomId, content);
      },
    };
    const ctx = this.ctx;
    this.inbox = new Inbox(ctx);
    this.puppets = new Puppets(ctx);
    const portals = new Portals(ctx, this.puppets);
    this.portals = portals;
    this.skypeToMatrix = new SkypeToMatrix(ctx, portals);
    this.contactRequests = new ContactRequests(ctx, portals);
    this.stateNotices = new StateNotices(ctx);
    const outbox = new DurableOutbox(ctx);
    this.matrixToSkype = new MatrixToSkype(ctx, portals, outbox);
    // Listeners go on before each session starts, so nothing it emits is missed.
    this.sessions.onSession((session) => {
      this.stateNotices.attach(session);
      this.skypeToMatrix.attach(session);
      this.contactRequests.attach(session);
      outbox.attach(session);
    });
  }

  private async onRoomEvent(event: WeakEvent): Promise<void> {
    if (await this.contactRequests.onRoomEvent(event)) return;
    await this.matrixToSkype.onEvent(event);
  }

  async start(port: number): Promise<void> {
    await this.matrix.start(port);
    // Events stored before a crash or restart go first, in order, through the same path.
    void this.inbox
      .replay((e) => this.matrix.route(e as WeakEvent))
      .catch((e: unknown) => log.error("replaying stored events failed", { error: errorText(e) }));
    // Sessions start in the background: a slow Skype server must not delay the appservice.
    void this.sessions
      .startAll()
      .catch((e: unknown) => log.error("starting sessions failed", { error: errorText(e) }));
  }

  async stop(): Promise<void> {
    this.stateNotices.stop();
    this.puppets.stop();
    await this.sessions
      .stopAll()
      .catch((e: unknown) => log.warn("stopping sessions failed", { error: errorText(e) }));
    // Let queued work finish, but never hold a shutdown for long: what is left is in the inbox and
    // outbox, and the Skype cursors have not moved past it.
    await Promise.race([
      Promise.allSettled([this.skypeToMatrix.drain(), this.matrixToSkype.drain()]),
      new Promise((resolve) => setTimeout(resolve, 5000).unref()),
    ]);
    await this.matrix.stop();
  }
}
