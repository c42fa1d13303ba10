// SPDX-License-Identifier: Apache-2.0
/**
 * The Matrix connector (bridgev2's MatrixConnector): matrix-appservice-bridge wired to our own
 * appservice HTTP side (durable accept of transactions, both ephemeral keys, the ping route), the
 * bot user's registration and profile, the homeserver ping at start, and the hand-over of every
 * room and ephemeral event to the bridge. It knows nothing of portals or commands.
 *
 * Room events are handed over in the order Synapse sent them, within a transaction and across
 * transactions, straight from our accept hook — not from the library's `controller.onEvent`.
 * matrix-appservice-bridge 10.3.3 (lib/bridge.js) does not await the controller: its listener of
 * the appservice's "event" calls `Bridge.onEvent`, which builds a context promise per event and
 * pushes it on its EventQueue; with queue type "none" (lib/components/event-queue.js,
 * `EventQueueNone.push`) each event goes to `onConsume` → `controller.onEvent` as soon as its own
 * promise settles, and the library goes on to the next event at once. That order holds only while
 * every event's promise chain has the same length (no encryption broker, no edit validation, no
 * context from stores), and nothing orders the work after it. So we take the order ourselves: the
 * accept hook sees each transaction's new events in order, and `onEvent` takes each event's place
 * in line synchronously (the inbox's room lanes). The library still gets every event through the
 * appservice, for its membership caches; its `controller.onEvent` is left empty.
 */
import {
  AppServiceRegistration,
  Bridge as LibBridge,
  type Intent,
  type WeakEvent,
} from "matrix-appservice-bridge";
import type { AppService } from "matrix-appservice";
import type { Appservice as BotSdkAppservice } from "@vector-im/matrix-bot-sdk";
import type { Config } from "../../config/schema.js";
import { backoffDelay, sleep } from "../../util/backoff.js";
import { Logger, errorText } from "../../util/logger.js";
import { SkypeAppService, type AcceptHook, type MatrixEventJson } from "./appservice.js";
import { BridgeCrypto } from "./crypto.js";
import { pingHomeserver, type PingResult } from "./homeserver-ping.js";
import type { Registration } from "./registration.js";

const log = new Logger("bridge.matrix");

/** An ephemeral event as the appservice delivers it. */
export interface EphemeralEvent {
  type: string;
  room_id?: string;
  content: Record<string, unknown>;
}

export interface MatrixConnectorOptions {
  config: Config;
  registration: Registration;
  /** Durably accepts a transaction's events, returning the ones not seen before. */
  accept?: AcceptHook;
  /**
   * Handles one room event. Called for each event not from the bridge's own users, in arrival
   * order; the call must take the event's place in line before it returns (the inbox's `handle`
   * does). Must not throw.
   */
  onEvent(event: WeakEvent): Promise<void>;
  onEphemeral?(event: EphemeralEvent): Promise<void>;
  /** Remembers the bot display name last set (so a restart does not set it again). */
  botProfile?: { get(): string | undefined; set(name: string): void };
}

export class MatrixConnector {
  readonly bridge: LibBridge;
  readonly botUserId: string;
  /** End-to-bridge encryption, when `encryption.enabled` (set up by `start`). */
  crypto?: BridgeCrypto;
  private readonly registration: AppServiceRegistration;

  constructor(private readonly opts: MatrixConnectorOptions) {
    const { config, registration } = opts;
    this.botUserId = `@${registration.sender_localpart}:${config.homeserver.domain}`;
    this.registration = AppServiceRegistration.fromObject(registration);
    this.bridge = new LibBridge({
      homeserverUrl: config.homeserver.url,
      domain: config.homeserver.domain,
      registration: this.registration,
      disableStores: true,
      suppressEcho: true,
      networkName: "Skype",
      queue: { type: "none" },
      intentOptions: { clients: { dontCheckPowerLevel: true }, bot: { dontCheckPowerLevel: true } },
      controller: {
        // Room events come from our accept hook, in order (see the top of this file).
        onEvent: () => undefined,
        onEphemeralEvent: (req) => {
          void this.onEphemeral(req.getData());
        },
        onUserQuery: () => null,
      },
    });
  }

  /** The bot's intent (no argument) or a puppet's. */
  intent(userId?: string): Intent {
    return userId === undefined ? this.bridge.getIntent() : this.bridge.getIntent(userId);
  }

  /** Starts listening and checks the homeserver both ways. Throws if it cannot listen. */
  async start(port = this.opts.config.appservice.port): Promise<void> {
    const { config } = this.opts;
    await this.bridge.initialise();
    const as = new SkypeAppService(this.opts.registration.hs_token);
    if (config.encryption.enabled) {
      // matrix-appservice-bridge keeps bot-sdk's appservice private and never gives it crypto.
      const botSdkAS = (this.bridge as unknown as { botSdkAS: BotSdkAppservice }).botSdkAS;
      const crypto = new BridgeCrypto({ config, appservice: botSdkAS, botUserId: this.botUserId });
      this.crypto = crypto;
      as.cryptoSync = (body) => crypto.onTransaction(body);
      if (this.opts.registration["org.matrix.msc3202"] !== true)
        log.error(
          "encryption is on but the registration does not ask for org.matrix.msc3202 and de.sorunome.msc2409.push_ephemeral: regenerate it (skype-bridge -r) and restart Synapse, or no room key will reach the bridge",
        );
    }
    const accept: AcceptHook = this.opts.accept ?? ((_txn, events) => events);
    as.accept = (txnId, events) => {
      const fresh = accept(txnId, events);
      return fresh instanceof Promise ? fresh.then((f) => this.handOver(f)) : this.handOver(fresh);
    };
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
    // Synapse now and then answers a ping 502 although the bridge answered it (seen after restarts);
    // a couple of tries keep that from reading as a broken setup.
    let ping = await this.ping();
    for (let attempt = 0; !ping.ok && attempt < 2; attempt++) {
      await sleep(backoffDelay(attempt, { initialMs: 500, maxMs: 2000 }));
      ping = await this.ping();
    }
    if (ping.ok) log.info("homeserver and bridge reach each other", { durationMs: ping.durationMs });
    else log.error(`the homeserver cannot reach the bridge: ${ping.reason}`, { errcode: ping.errcode });
    // The bot's device first: room keys are shared with the devices present when a message is sent.
    await this.crypto
      ?.start()
      .catch((e: unknown) =>
        log.error("could not set up the bot's encryption device", { error: errorText(e) }),
      );
  }

  ping(): Promise<PingResult> {
    return pingHomeserver(this.bridge.getIntent().matrixClient, this.opts.registration.id);
  }

  async stop(): Promise<void> {
    await this.crypto?.stop();
    await this.bridge.close().catch((e: unknown) => log.warn("error while closing", { error: errorText(e) }));
  }

  /**
   * Hands a transaction's new events to `onEvent`, in order, after the appservice emitted them to
   * the library (it answers Synapse and emits in a microtask; this runs in the next macrotask, and
   * those run in the order they were scheduled, so transactions keep their order too). Events of
   * the bot and the puppets are left out, as the library's `suppressEcho` would.
   */
  private handOver(fresh: MatrixEventJson[]): MatrixEventJson[] {
    if (this.crypto) for (const e of fresh) this.crypto.observe(e, (u) => this.isOwnUser(u));
    const events = fresh.filter((e) => typeof e.sender !== "string" || !this.isOwnUser(e.sender));
    if (events.length > 0)
      setImmediate(() => {
        for (const event of events) void this.onEvent(event as unknown as WeakEvent);
      });
    return fresh;
  }

  private isOwnUser(userId: string): boolean {
    return userId === this.botUserId || this.registration.isUserMatch(userId, true);
  }

  private async onEvent(event: WeakEvent): Promise<void> {
    try {
      await this.opts.onEvent(event);
    } catch (e) {
      log.error("failed to handle a Matrix event", {
        event: event.event_id,
        room: event.room_id,
        error: errorText(e),
      });
    }
  }

  private async onEphemeral(event: EphemeralEvent): Promise<void> {
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
