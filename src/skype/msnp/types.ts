// SPDX-License-Identifier: Apache-2.0
/**
 * Public types of the MSNP24 client: options, connection state and events.
 */
import type { Duplex } from "node:stream";
import type { SkypeError } from "../errors.js";
import type { SkypeLogger } from "../log.js";
import type { MediaContent } from "../media/uri-object.js";
import type { HorizonEvent } from "./horizon.js";

export type { ConsumptionHorizon, HorizonEvent } from "./horizon.js";

/**
 * Credentials, injected so the client never holds a password or a refresh token.
 * Both functions may throw a `SkypeError`: code `SKYPE_BAD_CREDENTIALS` puts the client in the
 * `bad_credentials` state; a retryable error makes it retry later.
 */
export interface MsnpCredentials {
  /** The Microsoft account e-mail (`<id>` in ATH, identity `1:<email>`). */
  email: string;
  /** The Skype name (`<alias>` in ATH, identity `8:<skypename>`). */
  skypename: string;
  /** A fresh `service::ssl.live.com::MBI_SSL` access token (network I/O). */
  getTicket(): Promise<string>;
  /** A UIC bound to this connection's CNT nonce (network I/O). */
  getUic(nonce: string): Promise<string>;
}

/** Where to connect. */
export interface MsnpTarget {
  host: string;
  port: number;
  tls: boolean;
  /** Extra trusted CA certificate(s) in PEM for TLS (a private server); default: the system's. */
  ca?: string | Buffer;
}

/** Opens the byte stream to the server (default: node:net or node:tls). */
export type MsnpConnect = (target: MsnpTarget) => Duplex;

/** Timers and time, injectable for tests. */
export interface MsnpClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Reconnect backoff: `min(maxMs, initialMs·2^attempt)`, of which the `jitter` fraction is random. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0..1; 0.5 means the delay is between 50 % and 100 % of the exponential value. */
  jitter: number;
}

/** How much history a first link reads (see {@link MsnpClientOptions.initialHistory}). */
export interface InitialHistory {
  conversations: number;
  messages: number;
}

/** Options of {@link MsnpClient}. */
export interface MsnpClientOptions {
  /** MSNP server host (configuration, never a constant: PROFILE §1). */
  host: string;
  port: number;
  /** TLS (the real service) or plain TCP (the reference server). Default false. */
  tls?: boolean;
  /** A CA certificate (PEM) to trust for TLS besides the system's, e.g. a private server's. */
  tlsCa?: string | Buffer;
  credentials: MsnpCredentials;
  /** This endpoint's id (a GUID without braces); keep it stable across restarts. Default: random. */
  epid?: string;
  /** `IM-Display-Name` of sent messages and the name prefixed to `/me` messages. Default: the Skype name. */
  displayName?: string;
  /** Presence published at login. Default `NLN`, empty mood. */
  initialPresence?: { status: PresenceStatus; mood?: string };
  logger?: SkypeLogger;
  connect?: MsnpConnect;
  clock?: MsnpClock;
  /** Random source in [0, 1) for backoff jitter. */
  random?: () => number;
  backoff?: Partial<BackoffOptions>;
  /** Last seen Message-ID per conversation, as persisted by the caller (see {@link MessageCursor}). */
  getCursors?: () => Promise<Record<string, string>>;
  /** The contact list (MRIs) sent with `PUT MSGR\CONTACTS` at login. */
  getContacts?: () => Promise<string[]>;
  /** Largest accepted frame payload (default 1 MiB). */
  maxFrameBytes?: number;
  /** Timeout of a request awaiting its reply (default 30 s). */
  requestTimeoutMs?: number;
  /** Ping interval until the server sends `<wait>` (default 20 s). */
  initialPingSeconds?: number;
  /** `pagesize` of history requests (default 100). */
  historyPageSize?: number;
  /**
   * History for a first link: at the first catch-up, the `conversations` most recent conversations
   * that have no cursor yet are read back `messages` messages each and delivered (oldest first) with
   * source `history`. Later catch-ups of the same client do not repeat it. Off when unset.
   */
  initialHistory?: InitialHistory;
  /**
   * Re-send ATH on the live connection this often (token refresh); off by default. A function is
   * asked again before each wait (the delay follows the ticket's expiry).
   */
  reauthIntervalMs?: number | (() => number);
  /**
   * Paces reconnects across many clients (one bridge, thousands of accounts, one server outage):
   * awaited before every attempt that follows a lost or failed connection — after the backoff
   * delay — and given back once that attempt is ready (caught up) or has failed. Without it a
   * client reconnects as soon as its backoff delay is over.
   */
  reconnectGate?: ReconnectGate;
}

/** Waits for permission to connect; resolves with the function that gives it back. */
export type ReconnectGate = () => Promise<() => void>;

/** The connection state (mautrix-style names). */
export type MsnpState =
  | { kind: "connecting" }
  | { kind: "connected" }
  | { kind: "transient_disconnect"; retryAt: number; error?: SkypeError }
  | { kind: "bad_credentials"; error: SkypeError }
  | { kind: "logged_out"; reason: string };

/** MSNP presence statuses; `FLN` means offline (no endpoint left). */
export type PresenceStatus = "NLN" | "BSY" | "AWY" | "IDL" | "HDN" | "FLN";

/**
 * Where a received message came from: pushed live, read by catch-up after a reconnect, or read as
 * the history of a first link (posted before the user is in the room, so it never notifies).
 */
export type MessageSource = "live" | "catchup" | "history";

/** The position to persist after handling an event: the conversation's last seen Message-ID. */
export interface MessageCursor {
  conversation: string;
  messageId: string;
}

/** Fields shared by message-like events. */
export interface MessageMeta {
  /** Conversation key: the other party's MRI exactly as on the wire, or the thread id. */
  conversation: string;
  /** Sender MRI without parameters. */
  sender: string;
  senderEpid?: string;
  /** True when the user sent it from another endpoint. */
  fromMe: boolean;
  messageId?: string;
  clientMessageId?: string;
  /** `Original-Arrival-Time` (ISO-8601) as sent by the server. */
  arrivalTime?: string;
  displayName?: string;
  source: MessageSource;
  /** Present when the server gave a Message-ID: persist it once the event is handled. */
  cursor?: MessageCursor;
}

/** Message content: `text` is plain; `richtext` is Skype's HTML subset, XML-escaped. */
export type MessageFormat = "text" | "richtext";

/** A received chat message. For `/me`, `emote` is true and `body` is the text after the name. */
export interface MessageEvent extends MessageMeta {
  messageType: string;
  format: MessageFormat;
  body: string;
  emote: boolean;
  /** For an image or a file (PROFILE §7.3: a URIObject Message-Type), the body as read. */
  media?: MediaContent;
}

/** A received edit of the message whose Client-Message-ID is `editedId`. */
export interface EditEvent extends MessageMeta {
  editedId: string;
  messageType: string;
  format: MessageFormat;
  body: string;
  emote: boolean;
  /** For an edit that replaces an image or a file, the new URIObject as read. */
  media?: MediaContent;
}

/** A received deletion (an edit with an empty body). */
export interface DeleteEvent extends MessageMeta {
  editedId: string;
}

export interface TypingEvent {
  conversation: string;
  sender: string;
  fromMe: boolean;
  typing: boolean;
}

export interface PresenceEvent {
  /** The contact's MRI (without epid). */
  identity: string;
  /** A {@link PresenceStatus}, or another code a server sent (kept as is). */
  status: string;
  mood?: string;
  /** Endpoints the contact still has online. */
  endpoints: number;
  self: boolean;
}

export type ThreadRole = "admin" | "user";

export interface ThreadMember {
  mri: string;
  /** Usually a {@link ThreadRole}; other values are kept as sent. */
  role?: string;
}

/** A thread as announced by `NFY MSGR\THREAD` or listed by `GET MSGR\THREADS`. */
export interface ThreadInfo {
  id: string;
  members: ThreadMember[];
  topic?: string;
  creator?: string;
}

/** A parsed `ThreadActivity/*` message (REFERENCE §8.3). */
export interface ThreadActivityEvent extends MessageMeta {
  /** `AddMember`, `DeleteMember`, `TopicUpdate`, `RoleUpdate`, or another suffix as sent. */
  activity: string;
  eventTime?: string;
  initiator?: string;
  /** Targets (AddMember/DeleteMember/RoleUpdate); for RoleUpdate each carries its new role. */
  targets: ThreadMember[];
  /** The new topic (TopicUpdate). */
  value?: string;
}

/** A message type the client does not interpret (Nudge, files, signals, …). */
export interface UnhandledMessageEvent extends MessageMeta {
  messageType: string;
  contentType?: string;
  body: string;
}

/** Event map of {@link MsnpClient}. Listeners must not throw (a throw is logged and ignored). */
export interface MsnpClientEvents {
  state: [MsnpState];
  message: [MessageEvent];
  edit: [EditEvent];
  delete: [DeleteEvent];
  typing: [TypingEvent];
  presence: [PresenceEvent];
  threadUpdate: [ThreadInfo];
  threadActivity: [ThreadActivityEvent];
  unhandledMessage: [UnhandledMessageEvent];
  /**
   * A member's read state (PROFILE §7.5): `NFY MSGR\CONSUMPTIONHORIZON` (`source: "live"`), or the
   * horizons `RECENTCONVERSATIONS` listed at login (`source: "recent"`, after catch-up's messages).
   */
  horizon: [HorizonEvent];
  /** `NFY MSGR\ABCH`: re-read the address book and contacts. */
  addressBookChanged: [];
  /** Catch-up after a login finished; `messages` is how many were delivered. */
  caughtUp: [{ messages: number }];
}

/** A send accepted by the client. */
export interface OutgoingMessage {
  /** The Client-Message-ID (the caller's or a generated one): persist it to edit or delete later. */
  clientMessageId: string;
  /**
   * Resolves once the server has certainly processed the message; rejects with an `MsnpError`
   * when it refused it, or with a `SkypeError` (`SKYPE_NOT_CONNECTED`) when the client stopped
   * first. Already has a handler attached, so ignoring it never causes an unhandled rejection.
   */
  delivered: Promise<void>;
}

/** Options of a send. */
export interface SendOptions {
  /** Use this Client-Message-ID instead of a generated one (decimal digits). */
  clientMessageId?: string;
}
