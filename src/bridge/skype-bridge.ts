// SPDX-License-Identifier: Apache-2.0
/**
 * Wires matrix-appservice-bridge to our own store and handlers: starts the appservice HTTP side,
 * checks that the homeserver can reach us, and routes Matrix events to the management rooms and
 * (later) the portals.
 */
import {
  AppServiceRegistration,
  Bridge,
  Logger as LibLogger,
  type Request,
  type WeakEvent,
} from "matrix-appservice-bridge";
import type { AppService } from "matrix-appservice";
import type { Config } from "../config/schema.js";
import { permissionFor } from "../config/permissions.js";
import { Logger, errorText } from "../util/logger.js";
import { SkypeAppService, type AcceptHook } from "./appservice.js";
import { basicCommands } from "./commands/basic.js";
import { CommandDispatcher } from "./commands/dispatcher.js";
import type { Command } from "./commands/types.js";
import { pingHomeserver, type PingResult } from "./homeserver-ping.js";
import { ManagementRooms, type ManagementDeps, type ManagementRoomStore } from "./management.js";
import type { Registration } from "./registration.js";

const log = new Logger("bridge");

export interface SkypeBridgeOptions {
  config: Config;
  registration: Registration;
  version: string;
  managementStore: ManagementRoomStore;
  /** Durably accepts a transaction's events, returning the ones not seen before. */
  accept?: AcceptHook;
  /** Extra management commands (login, logout, …). */
  commands?: (dispatcher: CommandDispatcher) => Command[];
  /** Called for every Matrix event not consumed by the management rooms. */
  onRoomEvent?: (event: WeakEvent) => Promise<void>;
  onEphemeral?: (event: {
    type: string;
    room_id?: string;
    content: Record<string, unknown>;
  }) => Promise<void>;
  /** Consumes management-room messages before they are read as commands. */
  intercept?: ManagementDeps["intercept"];
  /** Remembers the bot display name last set (so a restart does not set it again). */
  botProfile?: { get(): string | undefined; set(name: string): void };
  /** Wraps the handling of every room event (the durable inbox marks it done afterwards). */
  handleEvent?: (event: WeakEvent, route: (event: WeakEvent) => Promise<void>) => Promise<void>;
}

export class SkypeBridge {
  readonly bridge: Bridge;
  readonly dispatcher = new CommandDispatcher();
  readonly management: ManagementRooms;
  private appservice?: SkypeAppService;

  constructor(private readonly opts: SkypeBridgeOptions) {
    const { config, registration } = opts;
    LibLogger.configure({ console: config.logging.level === "debug" ? "info" : "warn" });
    this.bridge = new Bridge({
      homeserverUrl: config.homeserver.url,
      domain: config.homeserver.domain,
      registration: AppServiceRegistration.fromObject(registration),
      disableStores: true,
      suppressEcho: true,
      networkName: "Skype",
      queue: { type: "none" },
      intentOptions: { clients: { dontCheckPowerLevel: true }, bot: { dontCheckPowerLevel: true } },
      controller: {
        onEvent: (req: Request<WeakEvent>) => {
          void this.onEvent(req.getData());
        },
        onEphemeralEvent: (req) => {
          void this.onEphemeral(req.getData());
        },
        onUserQuery: () => null,
      },
    });
    for (const c of basicCommands({
      dispatcher: this.dispatcher,
      version: opts.version,
      ping: () => this.ping(),
    })) {
      this.dispatcher.add(c);
    }
    for (const c of opts.commands?.(this.dispatcher) ?? []) this.dispatcher.add(c);
    this.management = new ManagementRooms({
      botIntent: () => this.bridge.getIntent(),
      botUserId: `@${registration.sender_localpart}:${config.homeserver.domain}`,
      store: opts.managementStore,
      dispatcher: this.dispatcher,
      permission: (mxid) => permissionFor(config, mxid),
      intercept: opts.intercept,
    });
  }

  get botUserId(): string {
    return `@${this.opts.registration.sender_localpart}:${this.opts.config.homeserver.domain}`;
  }

  /** Starts listening and checks the homeserver both ways. Throws if it cannot listen. */
  async start(port = this.opts.config.appservice.port): Promise<void> {
    const { config } = this.opts;
    await this.bridge.initialise();
    const as = new SkypeAppService(this.opts.registration.hs_token);
    if (this.opts.accept) as.accept = this.opts.accept;
    this.appservice = as;
    // SkypeAppService is an AppService subclass; TS cannot see it because the override touches a private member.
    await this.bridge.listen(port, config.appservice.bind_address, 10, as as unknown as AppService);
    log.info("appservice listening", { address: `${config.appservice.bind_address}:${port}` });
    const bot = this.bridge.getIntent();
    try {
      await bot.ensureRegistered();
      // Set the name only when it changed: every change rewrites the bot's member event in every room.
      const name = config.appservice.bot_display_name;
      if (this.opts.botProfile?.get() !== name) {
        await bot.setDisplayName(name);
        this.opts.botProfile?.set(name);
      }
    } catch (e) {
      log.warn("could not set up the bot user (is the homeserver up?)", { error: errorText(e) });
    }
    const ping = await this.ping();
    if (ping.ok) log.info("homeserver and bridge reach each other", { durationMs: ping.durationMs });
    else log.error(`the homeserver cannot reach the bridge: ${ping.reason}`, { errcode: ping.errcode });
  }

  ping(): Promise<PingResult> {
    return pingHomeserver(this.bridge.getIntent().matrixClient, this.opts.registration.id);
  }

  async stop(): Promise<void> {
    await this.bridge.close().catch((e: unknown) => log.warn("error while closing", { error: errorText(e) }));
  }

  private async onEvent(event: WeakEvent): Promise<void> {
    if (this.opts.handleEvent) await this.opts.handleEvent(event, (e) => this.route(e));
    else await this.route(event);
  }

  /** Routes one Matrix event: management rooms first, then the rest of the bridge. Never throws. */
  async route(event: WeakEvent): Promise<void> {
    try {
      if (event.type === "m.room.member" && (await this.management.onMembership(event))) return;
      if (event.type === "m.room.message" && (await this.management.onMessage(event))) return;
      await this.opts.onRoomEvent?.(event);
    } catch (e) {
      log.error("failed to handle a Matrix event", {
        event: event.event_id,
        room: event.room_id,
        error: errorText(e),
      });
    }
  }

  private async onEphemeral(event: {
    type: string;
    room_id?: string;
    content: Record<string, unknown>;
  }): Promise<void> {
    if (event.type === "m.typing") {
      log.debug("typing notification received", { room: event.room_id, users: event.content.user_ids });
    }
    try {
      await this.opts.onEphemeral?.(event);
    } catch (e) {
      log.error("failed to handle an ephemeral event", { type: event.type, error: errorText(e) });
    }
  }
}
