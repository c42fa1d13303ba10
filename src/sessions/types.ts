// SPDX-License-Identifier: Apache-2.0
/**
 * The contract between the session layer (one Skype connection per linked Matrix user) and the
 * bridge. The bridge depends only on this file; src/sessions implements it.
 */
import type { EventEmitter } from "node:events";
import type { SkypeError } from "../skype/errors.js";
import type { Contact } from "../skype/model.js";
import type { AvatarResult } from "../skype/api/avatar.js";
import type { BlockedContact } from "../skype/soap/parse.js";
import type { LoginResult } from "../skype/auth/login-process.js";
import type { UriObject } from "../skype/media/uri-object.js";
import type { DownloadOptions, MediaDownload, OutgoingFile, UploadedMedia, ViewStatus } from "./media.js";
import type {
  DeleteEvent,
  EditEvent,
  HorizonEvent,
  MessageEvent,
  OutgoingMessage,
  PresenceEvent,
  PresenceStatus,
  ThreadActivityEvent,
  ThreadInfo,
  ThreadRole,
  TypingEvent,
  UnhandledMessageEvent,
} from "../skype/msnp/types.js";

export type { AvatarResult };
export type {
  DeleteEvent,
  EditEvent,
  HorizonEvent,
  MessageEvent,
  OutgoingMessage,
  PresenceEvent,
  ThreadActivityEvent,
  ThreadInfo,
  TypingEvent,
  UnhandledMessageEvent,
};

/**
 * A linked user's session state (mautrix bridge-state names). Every session ends in `logged_out`:
 * reason `logout` (unlinked), `stopped` (replaced by a new link), `shutdown` (the bridge stops), or
 * the server's (`OTH`: signed in elsewhere).
 */
export type SessionState =
  | { kind: "connecting" }
  | { kind: "connected" }
  | { kind: "transient_disconnect"; retryAt: number; error?: SkypeError }
  | { kind: "bad_credentials"; error?: SkypeError }
  | { kind: "logged_out"; reason: string };

/** An incoming contact request. */
export interface ContactRequest {
  mri: string;
  displayName: string;
  message: string;
}

/** What a session tells the bridge. Listeners must not throw; they may return promises (ignored). */
/** Why a contact list was read. */
export interface ContactsReadInfo {
  /**
   * True when nothing was said to have changed (a connect, the periodic re-read); false when an
   * address-book change, a request answered, a block or a user's `sync` asked for the run.
   */
  readonly routine: boolean;
}

export interface SessionEvents {
  /**
   * Emitted once per change of state (never twice in a row with the same kind). A reconnect is
   * `transient_disconnect`, then `connected`; the end of a session is always announced.
   */
  state: [SessionState];
  message: [MessageEvent];
  edit: [EditEvent];
  delete: [DeleteEvent];
  typing: [TypingEvent];
  presence: [PresenceEvent];
  threadUpdate: [ThreadInfo];
  threadActivity: [ThreadActivityEvent];
  unhandledMessage: [UnhandledMessageEvent];
  /**
   * A member's read state in a conversation (PROFILE §7.5): a contact's, or the user's own from
   * another Skype endpoint (`fromMe`). Live, or listed at login (`source: "recent"`).
   */
  horizon: [HorizonEvent];
  /**
   * The contact list after a (re)sync: one entry per person, identities merged; `routine` when the
   * read was a connect's or the periodic one, not asked for by a change.
   */
  contacts: [Contact[], ContactsReadInfo];
  /** Incoming contact requests after a (re)sync (the full current list). */
  contactRequests: [ContactRequest[]];
  /**
   * Catch-up after a (re)connect finished. By then the server has re-sent the presence of every
   * contact online (it does when the connection subscribes, before catch-up starts): a contact
   * not announced since `connected` is offline.
   */
  caughtUp: [{ messages: number }];
  /**
   * Whether the newest rotated refresh token is stored. `saved: false` once its writes failed,
   * retries included: the connection goes on, but after a restart the user would have to sign in
   * again (tell them; state-messages.ts `describeRefreshTokenStore`). `saved: true` when a later
   * token was stored after such a report. Never emitted while all is well.
   */
  refreshTokenStore: [{ saved: boolean }];
}

/** One linked user's Skype connection. */
export interface Session extends EventEmitter<SessionEvents> {
  readonly mxid: string;
  /** The user's own identities (`1:<email>`, `8:<skypename>`). */
  readonly identities: readonly string[];
  readonly displayName: string;
  readonly state: SessionState;
  /** Sends text / rich text / emote to a contact MRI or thread id. Never throws; see OutgoingMessage. */
  sendText(conversation: string, text: string, clientMessageId?: string): OutgoingMessage;
  sendRichText(conversation: string, html: string, clientMessageId?: string): OutgoingMessage;
  sendEmote(conversation: string, text: string, clientMessageId?: string): OutgoingMessage;
  editMessage(
    conversation: string,
    originalClientMessageId: string,
    content: { format: "text" | "richtext"; body: string; emote?: boolean },
    clientMessageId?: string,
  ): OutgoingMessage;
  deleteMessage(
    conversation: string,
    originalClientMessageId: string,
    clientMessageId?: string,
  ): OutgoingMessage;
  /** Best effort; false when not connected. */
  sendTyping(conversation: string, typing: boolean): boolean;
  /**
   * Marks `conversation` read up to the message with server id `messageId` (its Client-Message-ID,
   * when known, goes in the horizon too). Network I/O; throws SkypeError (`SKYPE_NOT_CONNECTED`
   * when offline: read state is not queued). Optional capability.
   */
  markRead?(conversation: string, messageId: string, clientMessageId?: string): Promise<void>;
  setPresence(status: PresenceStatus): Promise<void>;
  /** Thread management (network I/O; throws SkypeError). */
  createThread(members: string[], topic?: string): Promise<ThreadInfo>;
  addThreadMembers(threadId: string, mris: string[], role?: ThreadRole): Promise<void>;
  removeThreadMember(threadId: string, mri: string): Promise<void>;
  setThreadTopic(threadId: string, topic: string): Promise<void>;
  /** Contact requests (network I/O; throws SkypeError). */
  acceptContactRequest(mri: string): Promise<void>;
  declineContactRequest(mri: string): Promise<void>;
  sendContactRequest(who: string, message?: string): Promise<void>;
  /**
   * Blocking (address book; network I/O; throws SkypeError). `who`: e-mail, Skype name or MRI.
   * Optional capabilities, as bridgev2's optional network interfaces: callers check for them.
   */
  blockContact?(who: string): Promise<void>;
  unblockContact?(who: string): Promise<void>;
  /** The people this account blocked, read from the address book now. */
  blockedContacts?(): Promise<BlockedContact[]>;
  /**
   * Images and files (PROFILE §7.2, §7.3; network I/O; throws SkypeError, `MediaError` with a
   * `SKYPE_MEDIA_*` code). Optional capabilities, as above. `downloadMedia` refuses an object off
   * the configured object service before any request, and waits (bounded) for its view.
   */
  downloadMedia?(object: UriObject, opts: DownloadOptions): Promise<MediaDownload>;
  /** The status of one view of a received object (no waiting). */
  mediaStatus?(object: UriObject, view: string): Promise<ViewStatus>;
  /** Creates an object readable by `conversation` and uploads the file into it. */
  uploadMedia?(conversation: string, file: OutgoingFile): Promise<UploadedMedia>;
  /** Sends an uploaded object as a URIObject message (with `editedId`, replacing that message). Never throws. */
  sendMedia?(
    conversation: string,
    media: UploadedMedia,
    clientMessageId?: string,
    editedId?: string,
  ): OutgoingMessage;
  /**
   * The avatar of `identity` (PROFILE §7.6), or `unchanged` while `etag` is current, or `none`.
   * Network I/O; throws SkypeError (`SKYPE_PARSE` for a body that is no image). Optional capability.
   */
  fetchAvatar?(identity: string, etag?: string): Promise<AvatarResult>;
  /** Re-reads contacts and requests now; emits `contacts` and `contactRequests`. */
  resyncContacts(): Promise<void>;
  /** The contact list from the last sync (may be empty before the first one). */
  contacts(): Contact[];
}

/** Owns every session. */
export interface SessionManager {
  /** Starts a session for every linked user in the store, at most N at once. Never throws. */
  startAll(): Promise<void>;
  /** Links `mxid` to the signed-in Skype account (persists the refresh token encrypted) and starts its session. */
  link(mxid: string, login: LoginResult): Promise<Session>;
  /** Stops the session, forgets the tokens and the link. */
  unlink(mxid: string): Promise<void>;
  get(mxid: string): Session | undefined;
  all(): Session[];
  /**
   * Stops the user's session and starts a new one from the stored sign-in (a fresh connection, even
   * after a refused one); undefined when the user has no stored sign-in. Never throws. Optional.
   */
  reconnect?(mxid: string): Promise<Session | undefined>;
  /** Called for every new session (at start-up and on link) so the bridge can attach listeners first. */
  onSession(listener: (session: Session) => void): void;
  /** Stops every session cleanly (`OUT`). */
  stopAll(): Promise<void>;
}
