// SPDX-License-Identifier: Apache-2.0
/**
 * The bridge's composition root: the store, the sessions (one Skype connection per linked user),
 * the Matrix side (SkypeBridge) and the handlers that connect them. main.ts builds one and starts it.
 */
import type { Config } from "../config/schema.js";
import { SkypeSessionManager } from "../sessions/session-manager.js";
import type { Store } from "../store/types.js";
import { endpointsFromConfig } from "../cli/endpoints.js";
import { Logger, errorText } from "../util/logger.js";
import type { MatrixEventJson } from "./appservice.js";
import { AccountCommands } from "./commands/account.js";
import type { BridgeContext } from "./context.js";
import { managementRoomsFromStore } from "./management-store.js";
import type { Registration } from "./registration.js";
import { SkypeBridge } from "./skype-bridge.js";

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
    this.matrix = new SkypeBridge({
      config,
      registration: opts.registration,
      version: opts.version,
      managementStore: managementRoomsFromStore(store),
      accept: (txnId, events) => this.accept(txnId, events),
      commands: () => this.account.commands(),
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
  }

  /** A transaction Synapse re-sends after we answered it once is not dispatched again. */
  private accept(txnId: string, events: MatrixEventJson[]): MatrixEventJson[] {
    const fresh = this.opts.store.txns.mark(txnId);
    if (!fresh) log.debug("transaction already handled", { txnId });
    return fresh ? events : [];
  }

  async start(port: number): Promise<void> {
    await this.matrix.start(port);
    // Sessions start in the background: a slow Skype server must not delay the appservice.
    void this.sessions
      .startAll()
      .catch((e: unknown) => log.error("starting sessions failed", { error: errorText(e) }));
  }

  async stop(): Promise<void> {
    await this.sessions
      .stopAll()
      .catch((e: unknown) => log.warn("stopping sessions failed", { error: errorText(e) }));
    await this.matrix.stop();
  }
}
