// SPDX-License-Identifier: Apache-2.0
/**
 * The user-facing parts, built once for app.ts: the management rooms and every command (basic,
 * account, contacts, requests, blocking, connection, admin), the bridge states (with the push to
 * `homeserver.status_endpoint`), the activity log, and the provisioning API.
 */
import type { Application } from "express";
import { accessContact, permissionFor } from "../../config/permissions.js";
import type { Config } from "../../config/schema.js";
import type { Session, SessionManager } from "../../sessions/types.js";
import { endpointsFromConfig } from "../../sessions/setup.js";
import type { Store } from "../../store/types.js";
import type { Bridge } from "../bridge.js";
import { isBridgeUser } from "../ghosts/ids.js";
import type { MatrixConnector } from "../matrix/connector.js";
import type { Registration } from "../matrix/registration.js";
import { ProvisioningService } from "../provisioning/api.js";
import { ActivityLog } from "./activity.js";
import { BridgeStates } from "./bridge-state.js";
import { AccountCommands } from "./commands/account.js";
import { AdminCommands } from "./commands/admin.js";
import { deletePortalCommand } from "./commands/admin-portal.js";
import { basicCommands } from "./commands/basic.js";
import { BlockingCommands } from "./commands/blocking.js";
import { ConnectionCommands } from "./commands/connection.js";
import { ContactCommands } from "./commands/contacts.js";
import { doublePuppetCommands } from "./commands/double-puppet.js";
import type { CommandDispatcher } from "./commands/dispatcher.js";
import { RequestCommands } from "./commands/requests.js";
import { whoamiCommand } from "./commands/whoami.js";
import type { ContactRequests } from "./contact-requests.js";
import { ManagementRooms, managementRoomsFromStore } from "./management.js";
import { noticeContent } from "./reply-format.js";
import { StatusPush } from "./status-push.js";

export interface UserFacingOptions {
  config: Config;
  registration: Registration;
  store: Store;
  version: string;
  sessions: SessionManager;
  core: Bridge;
  matrix: Pick<MatrixConnector, "intent" | "botUserId" | "ping">;
  contactRequests: ContactRequests;
  dispatcher: CommandDispatcher;
}

export class UserFacing {
  readonly management: ManagementRooms;
  readonly account: AccountCommands;
  readonly states: BridgeStates;
  readonly activity: ActivityLog;
  private readonly statusPush?: StatusPush;
  private readonly provisioning?: ProvisioningService;
  private readonly startedAt = Date.now();

  constructor(private readonly o: UserFacingOptions) {
    const { config, store, sessions, core, matrix } = o;
    const permission = (mxid: string) => permissionFor(config, mxid);
    this.states = new BridgeStates({ store, sessions });
    this.activity = new ActivityLog(store);
    const endpoint = config.homeserver.status_endpoint;
    if (endpoint) {
      const push = new StatusPush({ endpoint, token: o.registration.as_token });
      this.states.onChange((state) => push.push(state));
      this.statusPush = push;
    }
    const notice = async (roomId: string, text: string, html?: string): Promise<void> => {
      await matrix.intent().sendMessage(roomId, noticeContent(text, html));
    };
    this.account = new AccountCommands({
      endpoints: endpointsFromConfig(config),
      sessions,
      store,
      redact: async (roomId, eventId, reason) => {
        await matrix.intent().matrixClient.redactEvent(roomId, eventId, reason);
      },
      isCommand: (name) => o.dispatcher.has(name),
      notice,
    });
    for (const c of this.commands()) o.dispatcher.add(c);
    this.management = new ManagementRooms({
      botIntent: () => matrix.intent(),
      botUserId: matrix.botUserId,
      store: managementRoomsFromStore(store),
      dispatcher: o.dispatcher,
      permission,
      accessContact: accessContact(config),
      intercept: (ctx, body) => this.account.intercept(ctx, body),
      isBridgeUser: (mxid) => isBridgeUser(core, mxid),
      isPortal: (roomId) => store.portals.getByRoom(roomId) !== undefined,
      onLost: (mxid) => this.account.forget(mxid),
      encryptionEnabled: config.encryption.enabled,
    });
    this.provisioning = ProvisioningService.fromConfig({
      config,
      store,
      sessions,
      bridge: core,
      states: this.states,
      endpoints: endpointsFromConfig(config),
      permission,
    });
  }

  private commands() {
    const { config, store, sessions, core, matrix, version } = this.o;
    const connection = new ConnectionCommands({
      sessions,
      store,
      contactsApplied: (mxid) => core.portals.queue.push(`contacts\n${mxid}`, () => Promise.resolve()),
    });
    const admin = new AdminCommands({
      version,
      startedAt: this.startedAt,
      store,
      sessions,
      states: this.states,
      activity: this.activity,
      busyQueues: () => core.portals.queue.size,
      account: this.account,
      connection,
      permission: (mxid) => permissionFor(config, mxid),
      notifyUser: async (mxid, text, opts) => {
        await core.env.notifyUser(mxid, text, opts);
      },
    });
    return [
      ...basicCommands({ dispatcher: this.o.dispatcher, version, ping: () => matrix.ping() }),
      ...this.account.commands(),
      ...doublePuppetCommands({
        doublePuppets: core.doublePuppets,
        redact: async (roomId, eventId, reason) => {
          await matrix.intent().matrixClient.redactEvent(roomId, eventId, reason);
        },
      }),
      whoamiCommand({ store, sessions, states: this.states }),
      ...connection.commands(),
      ...new ContactCommands({ sessions, bridge: core }).commands(),
      ...new RequestCommands({ sessions, store, requests: this.o.contactRequests }).commands(),
      ...new BlockingCommands({ sessions, store }).commands(),
      ...admin.commands(),
      deletePortalCommand(core),
    ];
  }

  /** Follows a new session (before it starts): its bridge state and activity. */
  attach(session: Session): void {
    this.states.attach(session);
    this.activity.attach(session);
  }

  /** A Matrix event from `sender` reached the bridge: they were active. */
  onMatrixEvent(sender: string): void {
    this.activity.touch(sender);
  }

  /** Mounts the provisioning API (when enabled) on the appservice's express app. */
  mountProvisioning(app: Application): void {
    this.provisioning?.mount(app);
  }

  stop(): void {
    this.account.stop();
    this.statusPush?.stop();
    this.provisioning?.stop();
  }
}
