// SPDX-License-Identifier: Apache-2.0
/**
 * End-to-bridge encryption (config `encryption.enabled`): bot-sdk's own crypto (CryptoClient, on
 * the Rust crypto's WebAssembly build through the project's local `@matrix-org/matrix-sdk-crypto-nodejs`
 * package, a complete implementation of the API bot-sdk uses; see package.json `overrides`), connected
 * to the transaction path that matrix-appservice-bridge 10.3.3 leaves it out of.
 *
 * - Devices: the bot and each puppet get one device, created on first need and reused across
 *   restarts. bot-sdk's `Intent.enableEncryption()` cannot be left to choose: without an argument
 *   it declares a second `deviceId` inside its `if` (appservice/Intent.js, 0.7.1-element.11), so
 *   the device it finds to reuse is dropped and it logs in again, a new device per start; and its
 *   check that the homeserver honours the device (`whoami` with `org.matrix.msc3202.device_id`)
 *   fails on Synapse, which reads only the stable `device_id` parameter, sending it down the same
 *   path. So we create the device ourselves (an appservice login naming the device id, kept in
 *   bot-sdk's per-user crypto storage), always pass it to `enableEncryption`, and add the stable
 *   parameter next to the unstable one on every request of a client that impersonates a device.
 * - Transactions: their to-device events, one-time-key counts, unused fallback key types (each
 *   user's, for its device) and device list changes (everyone's) go to each user's machine before
 *   the transaction's room events are accepted (`onTransaction`), so a room key that arrives with
 *   a message is there before the message is decrypted.
 * - Decryption: with the bot's device (the bot is in every portal, so every room key is shared
 *   with it), in the room's lane of the inbox (the same ordered path as clear events); an event
 *   whose key has not arrived yet waits for the next to-device batch, up to {@link KEY_WAIT_MS}.
 * - Encryption: every room event the bridge's clients send into an encrypted room (MatrixOps with
 *   our own txn ids, notices, the library's Intent) is turned into `m.room.encrypted` with the
 *   sender's own device, in the request patch below.
 * - Stores: under `<database folder>/crypto`, one per user, with a passphrase derived from
 *   `secrets.token_key` (never written anywhere).
 */
import { createHmac, randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { dirname, join, relative, resolve } from "node:path";
import {
  EncryptedRoomEvent,
  MatrixClient,
  RustSdkAppserviceCryptoStorageProvider,
  type Appservice,
  type IAppserviceStorageProvider,
  type Intent as BotSdkIntent,
} from "@vector-im/matrix-bot-sdk";
import type { Config } from "../../config/schema.js";
import { Logger, errorText } from "../../util/logger.js";
import type { MatrixEventJson } from "./appservice.js";

const log = new Logger("bridge.crypto");

/** How long a message whose room key has not arrived yet waits for it before it is given up. */
export const KEY_WAIT_MS = 30_000;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the stand-in is plain CommonJS without types
const standIn = require("@matrix-org/matrix-sdk-crypto-nodejs") as {
  setStorePassphrase(fn: (storePath: string) => string): void;
  flushStores(): Promise<void>;
};

/** The crypto part of an appservice transaction body. */
export type TransactionBody = Record<string, unknown>;

function firstArray(body: TransactionBody, keys: string[]): Record<string, unknown>[] {
  for (const k of keys) if (Array.isArray(body[k])) return body[k] as Record<string, unknown>[];
  return [];
}
function firstObject(body: TransactionBody, keys: string[]): Record<string, unknown> | undefined {
  for (const k of keys) {
    const v = body[k];
    if (v !== null && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  }
  return undefined;
}
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);

/** A transaction's crypto part, whichever of the stable and unstable keys the homeserver used. */
export interface TransactionCryptoPart {
  toDevice: Record<string, unknown>[];
  /** user -> device -> algorithm -> count. */
  otks?: Record<string, unknown>;
  /** user -> device -> algorithms. */
  fallbacks?: Record<string, unknown>;
  changed: string[];
  left: string[];
}

export function cryptoPartOf(body: TransactionBody): TransactionCryptoPart {
  const toDevice = firstArray(body, [
    "to_device",
    "org.matrix.msc2409.to_device",
    "de.sorunome.msc2409.to_device",
  ]);
  const otks = firstObject(body, [
    "device_one_time_keys_count",
    "org.matrix.msc3202.device_one_time_keys_count",
    "org.matrix.msc3202.device_one_time_key_counts",
  ]);
  const fallbacks = firstObject(body, [
    "device_unused_fallback_key_types",
    "org.matrix.msc3202.device_unused_fallback_key_types",
  ]);
  const lists = firstObject(body, ["device_lists", "org.matrix.msc3202.device_lists"]) ?? {};
  // Synapse names the second list `left`; bot-sdk reads `removed`.
  return {
    toDevice,
    otks,
    fallbacks,
    changed: strings(lists.changed),
    left: [...strings(lists.left), ...strings(lists.removed)],
  };
}

/** `PUT /rooms/{room}/send/{type}/{txn}`: room, type and txn id still URI-encoded. */
const SEND_PATH = /^\/_matrix\/client\/(?:v3|r0)\/rooms\/([^/]+)\/send\/([^/]+)\/([^/]+)$/;

/** The crypto that seals what the bridge's clients send (set by the running BridgeCrypto). */
let sealing: BridgeCrypto | undefined;

/**
 * Patches bot-sdk's MatrixClient.doRequest once (0.7.1-element.11):
 * - it sends the impersonated device only as `org.matrix.msc3202.device_id`; Synapse reads the
 *   stable `device_id`, added here for clients that impersonate a device (only ours do);
 * - a room event sent with the appservice token (the bot, or a puppet through `user_id`) into an
 *   encrypted room is encrypted first with that user's device. Every send of the bridge goes
 *   through here (MatrixOps, notices, the library's Intent), so none goes out in the clear by a
 *   path that forgot; bot-sdk's own `sendEvent` encrypts before and sends `m.room.encrypted`,
 *   which is left alone, as are the clients of linked users' real accounts (double puppeting).
 */
let doRequestPatched = false;
function patchDoRequest(): void {
  if (doRequestPatched) return;
  doRequestPatched = true;
  type DoRequest = (
    this: MatrixClient,
    method: string,
    path: string,
    qs?: Record<string, unknown> | null,
    body?: unknown,
    ...rest: unknown[]
  ) => Promise<unknown>;
  const proto = MatrixClient.prototype as unknown as { doRequest: DoRequest };
  const original = proto.doRequest;
  proto.doRequest = async function (method, path, qs, body, ...rest) {
    const { impersonatedDeviceId: device, impersonatedUserId } = this as unknown as {
      impersonatedDeviceId?: string | null;
      impersonatedUserId?: string | null;
    };
    const query = device ? { ...(qs ?? {}), device_id: device } : qs;
    const send = method === "PUT" && sealing?.ownsClient(this) ? SEND_PATH.exec(path) : null;
    if (
      send &&
      decodeURIComponent(send[2]!) !== "m.room.encrypted" &&
      body !== null &&
      typeof body === "object"
    ) {
      const userId = impersonatedUserId ?? sealing!.botUserId;
      const sealed = await sealing!.encrypt(
        userId,
        decodeURIComponent(send[1]!),
        decodeURIComponent(send[2]!),
        body as Record<string, unknown>,
      );
      if (sealed) {
        const sealedPath = `${path.slice(0, path.indexOf("/rooms/"))}/rooms/${send[1]!}/send/m.room.encrypted/${send[3]!}`;
        return original.call(this, method, sealedPath, query, sealed, ...rest);
      }
    }
    return original.call(this, method, path, query, body, ...rest);
  };
}

export interface BridgeCryptoOptions {
  config: Config;
  /** bot-sdk's appservice inside matrix-appservice-bridge (after `initialise`). */
  appservice: Appservice;
  botUserId: string;
}

export class BridgeCrypto {
  private readonly baseDir: string;
  private readonly storage: RustSdkAppserviceCryptoStorageProvider;
  /** userId -> its intent with crypto ready (kept here: bot-sdk's intent cache expires entries). */
  private readonly ready = new Map<string, Promise<BotSdkIntent>>();
  /** Rooms known to be encrypted or not. */
  private readonly encryptedRooms = new Map<string, boolean>();
  /** Fires after each batch of to-device events was processed (a key may have arrived). */
  private readonly synced = new EventEmitter();
  private stopped = false;
  /** Megolm sessions ("room|session id") whose key did not arrive within the wait. */
  private readonly keylessSessions = new Set<string>();

  constructor(private readonly opts: BridgeCryptoOptions) {
    this.baseDir = join(dirname(resolve(opts.config.database.path)), "crypto");
    const tokenKey = opts.config.secrets.token_key;
    standIn.setStorePassphrase((storePath) =>
      createHmac("sha256", tokenKey)
        .update(`skype-bridge crypto store\0${relative(this.baseDir, storePath)}`)
        .digest("hex"),
    );
    // Store type: the stand-in ignores it (IndexedDB saved to a directory).
    this.storage = new RustSdkAppserviceCryptoStorageProvider(this.baseDir, 0);
    const as = opts.appservice as unknown as {
      cryptoStorage?: unknown;
      options: { cryptoStorage?: unknown };
    };
    as.cryptoStorage = this.storage;
    as.options.cryptoStorage = this.storage;
    this.synced.setMaxListeners(0);
    this.asToken = (
      opts.appservice as unknown as { options: { registration: { as_token: string } } }
    ).options.registration.as_token;
    patchDoRequest();
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the running crypto, for the module-level request patch
    sealing = this;
  }

  private readonly asToken: string;

  get botUserId(): string {
    return this.opts.botUserId;
  }

  /** True for a client acting with the appservice's token (the bot's or a puppet's). */
  ownsClient(client: MatrixClient): boolean {
    return client.accessToken === this.asToken;
  }

  /** Sets up the bot's device (keys uploaded). */
  async start(): Promise<void> {
    await this.intentFor(this.opts.botUserId);
    log.info("end-to-bridge encryption is on", { store: this.baseDir });
  }

  /** Saves every crypto store. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (sealing === this) sealing = undefined;
    this.synced.emit("sync");
    await standIn
      .flushStores()
      .catch((e: unknown) => log.warn("could not save the crypto stores", { error: errorText(e) }));
  }

  /** How many users have a device ready in this process. */
  get devices(): number {
    return this.ready.size;
  }

  /** The user's intent with its device and crypto ready (created on first need). */
  intentFor(userId: string): Promise<BotSdkIntent> {
    let p = this.ready.get(userId);
    if (!p) {
      p = this.prepare(userId);
      this.ready.set(userId, p);
      p.catch(() => this.ready.delete(userId));
    }
    return p;
  }

  private async prepare(userId: string): Promise<BotSdkIntent> {
    const as = this.opts.appservice;
    const intent = userId === this.opts.botUserId ? as.botIntent : as.getIntentForUserId(userId);
    // Intents made before the storage was set (the bot's, in the constructor) do not have it.
    (intent as unknown as { cryptoStorage: unknown }).cryptoStorage = this.storage;
    // The bot (the appservice's sender) always exists, and Synapse 1.163 answers a registration
    // of it with a 500 (a duplicate profile row); enableEncryption registers first, so tell
    // bot-sdk it is registered.
    if (userId === this.opts.botUserId)
      await (as as unknown as { storage: IAppserviceStorageProvider }).storage.addRegisteredUser(userId);
    await intent.ensureRegistered();
    const store = this.storage.storageForUser(userId);
    let deviceId = await store.getDeviceId();
    if (!deviceId) {
      deviceId = `SKYPE${randomBytes(5).toString("hex").toUpperCase()}`;
      // The appservice login creates the device (Synapse refuses to act as a device that does
      // not exist); its access token is not used (acting as the device goes through our as_token).
      await as.botClient.doRequest("POST", "/_matrix/client/v3/login", null, {
        type: "m.login.application_service",
        identifier: { type: "m.id.user", user: userId },
        device_id: deviceId,
        initial_device_display_name: "Skype bridge",
      });
      await store.setDeviceId(deviceId);
      log.info("created a device", { user: userId, device: deviceId });
    }
    // Always with the device id: see the top of this file.
    await intent.enableEncryption(deviceId);
    return intent;
  }

  /**
   * Feeds a transaction's crypto part to each user's machine. Never throws (a failure is
   * logged: the messages it concerns will not decrypt and their senders are told).
   */
  async onTransaction(body: TransactionBody): Promise<void> {
    const { toDevice, otks, fallbacks, changed, left } = cryptoPartOf(body);
    const users = new Set<string>();
    for (const e of toDevice) if (typeof e.to_user_id === "string") users.add(e.to_user_id);
    for (const u of Object.keys(otks ?? {})) users.add(u);
    for (const u of Object.keys(fallbacks ?? {})) users.add(u);
    // Device list changes concern every machine that may track those users.
    if (changed.length > 0 || left.length > 0) for (const u of this.ready.keys()) users.add(u);
    if (users.size === 0) return;
    await Promise.all(
      [...users].map(async (userId) => {
        try {
          const intent = await this.intentFor(userId);
          const crypto = intent.underlyingClient.crypto;
          const device = crypto.clientDeviceId;
          const events = toDevice.filter(
            (e) => e.to_user_id === userId && (e.to_device_id === undefined || e.to_device_id === device),
          );
          const counts = (otks?.[userId] as Record<string, unknown> | undefined)?.[device] as
            Record<string, number> | undefined;
          const unused = (fallbacks?.[userId] as Record<string, unknown> | undefined)?.[device];
          await crypto.updateSyncData(
            events as never[],
            counts ?? {},
            strings(unused) as never[],
            changed,
            left,
          );
        } catch (e) {
          log.error("could not update a user's crypto from a transaction", {
            user: userId,
            error: errorText(e),
          });
        }
      }),
    );
    if (toDevice.length > 0) this.synced.emit("sync");
  }

  /**
   * Notes what a room event says about the room's encryption. A puppet invited to (or joining) an
   * encrypted room gets its device now, before the room's members send: a client shares a room
   * key only with the devices it knows of (a DM the user starts by inviting a puppet has no bot to
   * fall back on).
   */
  observe(event: MatrixEventJson, isOwnUser: (userId: string) => boolean): void {
    const roomId = event.room_id;
    if (typeof roomId !== "string") return;
    if (event.type === "m.room.encryption" && event.state_key === "") this.encryptedRooms.set(roomId, true);
    const userId = event.state_key;
    if (event.type !== "m.room.member" || typeof userId !== "string" || userId === this.opts.botUserId)
      return;
    if (!isOwnUser(userId) || this.ready.has(userId)) return;
    const content = (event.content ?? {}) as { membership?: unknown };
    if (content.membership !== "invite" && content.membership !== "join") return;
    const stripped = ((event.unsigned ?? {}) as { invite_room_state?: unknown }).invite_room_state;
    if (
      Array.isArray(stripped) &&
      stripped.some((e) => (e as { type?: unknown }).type === "m.room.encryption")
    )
      this.encryptedRooms.set(roomId, true);
    void (async () => {
      if (await this.isEncrypted(roomId, userId)) await this.intentFor(userId);
    })().catch((e: unknown) =>
      log.warn("could not set up a puppet's device", { user: userId, room: roomId, error: errorText(e) }),
    );
  }

  /** True when the room has `m.room.encryption` state (asked as `asUser`, by default the bot, until it has). */
  async isEncrypted(roomId: string, asUser?: string): Promise<boolean> {
    const known = this.encryptedRooms.get(roomId);
    if (known !== undefined) return known;
    let encrypted = false;
    try {
      const client =
        asUser === undefined || asUser === this.opts.botUserId
          ? this.opts.appservice.botClient
          : this.opts.appservice.getIntentForUserId(asUser).underlyingClient;
      await client.getRoomStateEvent(roomId, "m.room.encryption", "");
      encrypted = true;
    } catch {
      encrypted = false;
    }
    // Only "encrypted" is final (encryption cannot be turned off); "not yet" is asked again.
    if (encrypted) this.encryptedRooms.set(roomId, true);
    return encrypted;
  }

  /** Marks a room encrypted (the bridge created it so). */
  markEncrypted(roomId: string): void {
    this.encryptedRooms.set(roomId, true);
  }

  /**
   * The `m.room.encrypted` content for a room event sent by `userId`, or undefined when the room
   * is not encrypted.
   */
  async encrypt(
    userId: string,
    roomId: string,
    type: string,
    content: Record<string, unknown>,
  ): Promise<Record<string, unknown> | undefined> {
    if (!(await this.isEncrypted(roomId))) return undefined;
    const intent = await this.intentFor(userId);
    return (await intent.underlyingClient.crypto.encryptRoomEvent(
      roomId,
      type,
      content,
    )) as unknown as Record<string, unknown>;
  }

  /**
   * Decrypts with the bot's device, else with a puppet's (rooms without the bot: a DM the user
   * started by inviting a puppet). Throws the bot's error when none can.
   */
  private async decryptWithAny(
    bot: BotSdkIntent,
    event: MatrixEventJson,
    roomId: string,
  ): Promise<{ type: string; content: unknown }> {
    const encrypted = new EncryptedRoomEvent(event);
    try {
      return await bot.underlyingClient.crypto.decryptRoomEvent(encrypted, roomId);
    } catch (botError) {
      for (const [userId, ready] of this.ready) {
        if (userId === this.opts.botUserId) continue;
        const intent = await ready.catch(() => undefined);
        if (!intent) continue;
        try {
          return await intent.underlyingClient.crypto.decryptRoomEvent(encrypted, roomId);
        } catch {
          // not this device's key either
        }
      }
      throw botError;
    }
  }

  /**
   * Decrypts an `m.room.encrypted` room event with the bot's device: the clear event with the
   * encrypted one's ids. Waits for a missing room key up to `waitMs`. Throws when it cannot.
   */
  async decrypt(event: MatrixEventJson, waitMs = KEY_WAIT_MS): Promise<MatrixEventJson> {
    const roomId = String(event.room_id);
    this.encryptedRooms.set(roomId, true);
    const bot = await this.intentFor(this.opts.botUserId);
    const content = (event.content ?? {}) as { session_id?: unknown };
    const session = `${roomId}|${String(content.session_id)}`;
    // A session whose key did not come in time once is not waited for again (each wait holds the
    // room's lane); a key arriving later still lets its next messages decrypt.
    const deadline = Date.now() + (this.keylessSessions.has(session) ? 0 : waitMs);
    for (;;) {
      try {
        const clear = await this.decryptWithAny(bot, event, roomId);
        this.keylessSessions.delete(session);
        return { ...event, type: clear.type, content: clear.content as Record<string, unknown> };
      } catch (e) {
        const left = deadline - Date.now();
        if (left <= 0 || this.stopped) {
          this.keylessSessions.add(session);
          throw e;
        }
        log.debug("a room key is missing; waiting for to-device events", {
          event: event.event_id,
          error: errorText(e),
        });
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            this.synced.off("sync", done);
            resolve();
          };
          const timer = setTimeout(done, Math.min(left, 5000));
          this.synced.once("sync", done);
        });
      }
    }
  }
}
