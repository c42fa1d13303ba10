// SPDX-License-Identifier: Apache-2.0
/**
 * One linked user's Skype connection: a TokenManager (rotated refresh tokens persisted at once), an
 * MSNP client, ActiveSync contacts and the ABCH address book, behind the `Session` contract of
 * ./types.ts. States are mapped to mautrix-style session states and emitted once per change of kind;
 * nothing here throws into the event loop.
 */
import { createHash } from "node:crypto";
import type { Dispatcher } from "undici";
import type { Config } from "../config/schema.js";
import { ContactSync } from "../skype/activesync/contact-sync.js";
import { AvatarClient, type AvatarResult } from "../skype/api/avatar.js";
import { SkypeError, SkypeErrorCode } from "../skype/errors.js";
import type { Contact, SkypeEndpoints } from "../skype/model.js";
import { MsnpClient, newClientMessageId } from "../skype/msnp/index.js";
import type { MsnpClientOptions, MsnpState, PresenceStatus, ThreadRole } from "../skype/msnp/types.js";
import { AmsClient } from "../skype/media/ams-client.js";
import type { UriObject } from "../skype/media/uri-object.js";
import { AddressBookClient } from "../skype/soap/address-book.js";
import type { BlockedContact } from "../skype/soap/parse.js";
import { TokenManager, TokenScope } from "../skype/tokens.js";
import type { Store } from "../store/types.js";
import { errorText, type Logger } from "../util/logger.js";
import { ContactRefresher, type ContactRefreshOptions } from "./contact-refresh.js";
import {
  SessionMedia,
  type DownloadOptions,
  type MediaDownload,
  type OutgoingFile,
  type UploadedMedia,
  type ViewStatus,
} from "./media.js";
import { FORWARDED_EVENTS, SessionEmitter } from "./session-emitter.js";
import {
  endpointsFromConfig,
  msnpClientOptions,
  REFRESH_MARGIN_MS,
  type PersistedSyncState,
  type SessionAccount,
} from "./setup.js";
import type { ContactsReadInfo, OutgoingMessage, Session, SessionState, ThreadInfo } from "./types.js";
import { RotatedTokenStore, type TokenStoreOptions } from "./token-store.js";
import { stateDetail, UserRecord } from "./user-record.js";

export type { SessionAccount } from "./setup.js";

/** What a session is built from (the session manager fills it in). */
export interface SkypeSessionOptions {
  mxid: string;
  config: Config;
  store: Store;
  account: SessionAccount;
  /** The refresh token read from the store. A secret: never logged. */
  refreshToken: string;
  logger: Logger;
  dispatcher?: Dispatcher;
  /** Overrides of the MSNP client's options (tests: backoff, timeouts, transport). */
  msnp?: Partial<MsnpClientOptions>;
  /** Retry timing of the contact refresh (the interval comes from the config). */
  contactRefresh?: Omit<ContactRefreshOptions, "intervalMs">;
  /** Retries of storing a rotated refresh token (tests shorten them). */
  tokenStore?: TokenStoreOptions;
  /** A first link: read back this much history at the first catch-up (see MsnpClientOptions). */
  initialHistory?: { conversations: number; messages: number };
  /**
   * A bridge-wide slot for the routine contact re-read after a reconnect, held until it ends (the
   * session manager's; without one it runs at once). When a server outage ends, every session
   * reconnects within the same minute: their re-reads then wait their turn, a few at a time, instead
   * of competing with the reconnections for the bridge's one thread.
   */
  reconnectRefreshGate?: () => Promise<() => void>;
}

/**
 * How the session stops. It always ends in `logged_out` with `reason` (default "stopped"), emitted
 * so listeners know it no longer speaks for the account (the bridge's presence counts on it);
 * `persist` also stores that state (a logout, not a pause such as a shutdown or a re-link).
 */
export interface StopOptions {
  reason?: string;
  persist?: boolean;
}

/** Consecutive refused ATH tickets that are retried with freshly refreshed tokens. */
const MAX_AUTH_RECOVERIES = 2;

function asSkypeError(e: unknown): SkypeError {
  if (e instanceof SkypeError) return e;
  return new SkypeError(SkypeErrorCode.Network, `unexpected failure: ${errorText(e)}`, true, { cause: e });
}

/** Every identity of the contacts, once each and sorted: what `PUT MSGR\CONTACTS` publishes. */
function publishedMris(list: readonly Contact[]): string[] {
  return [...new Set(list.flatMap((c) => c.identities))].sort();
}

/** A linked user's Skype session. Build it through SkypeSessionManager. */
export class SkypeSession extends SessionEmitter implements Session {
  readonly mxid: string;
  readonly identities: readonly string[];
  readonly displayName: string;
  /** Resolves once the first connection attempt settled (connected, failed or stopped). */
  readonly firstAttempt: Promise<void>;
  private current: SessionState = { kind: "connecting" };
  private readonly user: UserRecord;
  private readonly rotated: RotatedTokenStore;
  private readonly tokens: TokenManager;
  private readonly msnp: MsnpClient;
  private readonly book: AddressBookClient;
  private readonly contactSync: ContactSync;
  private readonly refresher: ContactRefresher;
  /** Avatars (PROFILE §7.6), with the Skype token. */
  private readonly avatars: AvatarClient;
  private settle: () => void = () => undefined;
  private started = false;
  /** stop() was called: the session is finished. */
  private stopped = false;
  /** Credentials refused or signed out: no reconnect, no refresh. */
  private halted = false;
  private stopping?: Promise<void>;
  /**
   * The list {@link publishContacts} saw last, with its digest. The MRIs themselves are not kept:
   * they are needed only at a login or a change, and held they cost ~0.9 KB per idle session.
   */
  private digestOf?: { list: readonly Contact[]; key: string };
  /** The state kind last written to the store (see {@link persistState}). */
  private persistedKind?: SessionState["kind"];
  private authRecoveries = 0;
  /** The MSNP connection was ready once: later "connected" states are reconnects. */
  private everConnected = false;
  private readonly reconnectRefreshGate?: () => Promise<() => void>;
  /** Why the session halted, when Skype refused the sign-in. */
  private refusal?: SkypeError;
  /** A digest of the contact list last published (`PUT MSGR\CONTACTS`), not the list itself. */
  private publishedContacts = "";
  /** Images and files (PROFILE §7.2), over the object service at `skype.endpoints.ams`. */
  private readonly media: SessionMedia;

  /** @throws SkypeError `SKYPE_INVALID_ARGUMENT` for an unusable MSNP address or an empty token. */
  constructor(opts: SkypeSessionOptions) {
    super(opts.logger);
    this.mxid = opts.mxid;
    this.reconnectRefreshGate = opts.reconnectRefreshGate;
    this.identities = [...opts.account.identities];
    this.displayName = opts.account.displayName;
    this.user = new UserRecord(opts.store, opts.mxid, this.log);
    this.firstAttempt = new Promise<void>((resolve) => (this.settle = resolve));
    const endpoints = endpointsFromConfig(opts.config);
    const http = { dispatcher: opts.dispatcher, logger: this.log };
    this.rotated = new RotatedTokenStore(
      (rt) => this.user.storeRefreshToken(rt),
      (status) => this.fire("refreshTokenStore", status),
      this.log,
      opts.tokenStore,
    );
    this.tokens = new TokenManager({
      ...http,
      endpoints,
      refreshToken: opts.refreshToken,
      refreshMarginMs: REFRESH_MARGIN_MS,
      onRefreshToken: (rt) => this.rotated.save(rt),
    });
    this.media = new SessionMedia(
      new AmsClient({ ...http, ams: opts.config.skype.endpoints.ams, tokens: this.tokens }),
    );
    const saved = this.user.syncState();
    this.contactSync = this.makeContactSync(endpoints, http, saved);
    this.avatars = new AvatarClient({ ...http, api: endpoints.api, tokens: this.tokens });
    this.book = new AddressBookClient(endpoints, this.tokens, { ...http, state: saved.addressBook });
    const interval = opts.config.skype.contact_sync_interval_seconds;
    this.refresher = new ContactRefresher(
      this.contactSync,
      this.book,
      {
        contacts: (list, info) => this.onContacts(list, info),
        requests: (list) => this.fire("contactRequests", list),
        persist: () => this.persistSyncState(),
        badCredentials: (e) => this.enterBadCredentials(e),
      },
      this.log,
      { ...opts.contactRefresh, intervalMs: interval ? interval * 1000 : undefined },
    );
    const wiring = {
      tokens: this.tokens,
      logger: this.log,
      cursors: () => this.user.cursors(),
      contacts: () => this.contactMris(),
    };
    const history = opts.initialHistory;
    const msnpOverrides =
      history && history.conversations > 0 ? { ...opts.msnp, initialHistory: history } : opts.msnp;
    this.msnp = new MsnpClient(msnpClientOptions(opts.config, opts.account, wiring, msnpOverrides));
    this.wireMsnp();
  }

  get state(): SessionState {
    return this.current;
  }

  private makeContactSync(
    endpoints: SkypeEndpoints,
    http: { dispatcher?: Dispatcher; logger: Logger },
    saved: PersistedSyncState,
  ): ContactSync {
    try {
      return new ContactSync(endpoints, this.tokens, { ...http, state: saved.activeSync });
    } catch (e) {
      this.log.warn("the saved contact-sync state is unusable; starting a full sync", {
        error: errorText(e),
      });
      return new ContactSync(endpoints, this.tokens, http);
    }
  }

  private wireMsnp(): void {
    const on = this.msnp.on.bind(this.msnp) as (event: string, fn: (...args: unknown[]) => void) => void;
    for (const name of FORWARDED_EVENTS) {
      on(name, (...args) => (this.fire as (e: string, ...a: unknown[]) => void)(name, ...args));
    }
    this.msnp.on("state", (s) => this.onMsnpState(s));
    this.msnp.on("addressBookChanged", () => {
      if (!this.halted && !this.stopped) this.refresher.trigger("address book changed");
    });
  }

  /**
   * Starts connecting in the background (no-op when started or stopped). Never throws; resolves
   * like {@link firstAttempt}.
   */
  start(): Promise<void> {
    if (!this.started && !this.stopped) {
      this.started = true;
      this.persistState(this.current);
      this.refresher.start();
      this.msnp.start();
    }
    return this.firstAttempt;
  }

  /** Signs out cleanly (`OUT`), stops everything and ends in `logged_out`. Never throws. */
  async stop(opts: StopOptions = {}): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      // A late refresh of a stopped session must not overwrite a newer link or an unlink.
      this.rotated.close();
      this.refresher.stop();
      this.settle();
      this.stopping = this.msnp.stop().catch((e: unknown) => {
        this.log.warn("stopping the MSNP client failed", { error: errorText(e) });
      });
    }
    await this.stopping;
    this.setState({ kind: "logged_out", reason: opts.reason ?? "stopped" }, opts.persist === true);
  }

  // ---- state ----

  private onMsnpState(s: MsnpState): void {
    if (this.stopped || this.halted) return;
    switch (s.kind) {
      case "connecting":
        // A reconnect stays "transient_disconnect" until it succeeds.
        if (this.current.kind !== "transient_disconnect") this.setState({ kind: "connecting" });
        return;
      case "connected":
        this.authRecoveries = 0;
        this.setState({ kind: "connected" });
        if (this.everConnected) this.refreshAfterReconnect();
        else this.refresher.trigger("connected");
        this.everConnected = true;
        return;
      case "transient_disconnect":
        this.setState({
          kind: "transient_disconnect",
          retryAt: s.retryAt,
          ...(s.error ? { error: s.error } : {}),
        });
        return;
      case "bad_credentials":
        this.onRefused(s.error);
        return;
      case "logged_out":
        this.halted = true;
        this.refresher.stop();
        this.setState({ kind: "logged_out", reason: s.reason });
        return;
    }
  }

  /**
   * The routine re-read after a reconnect (what changed while the connection was down), in a
   * bridge-wide slot. A change pushed meanwhile (`addressBookChanged`) still refreshes at once.
   */
  private refreshAfterReconnect(): void {
    const gate = this.reconnectRefreshGate;
    if (!gate) {
      this.refresher.trigger("connected");
      return;
    }
    void gate().then(
      async (release) => {
        try {
          if (!this.stopped && !this.halted) await this.refresher.refresh("connected");
        } catch {
          // Logged and retried by the refresher.
        } finally {
          release();
        }
      },
      // A failing gate must not cost the re-read.
      () => this.refresher.trigger("connected"),
    );
  }

  /**
   * MSNP refused the sign-in. A refused refresh token is final; a refused ticket (911) may just be
   * stale (expired or revoked early), so the tokens are renewed and the login retried, a few times.
   */
  private onRefused(error: SkypeError): void {
    if (error.code === SkypeErrorCode.BadCredentials || this.authRecoveries >= MAX_AUTH_RECOVERIES) {
      this.enterBadCredentials(error);
      return;
    }
    this.authRecoveries++;
    this.log.warn("Skype refused the sign-in ticket; renewing tokens and reconnecting", {
      code: error.code,
      error: errorText(error),
    });
    this.tokens.invalidate(TokenScope.Ath);
    this.tokens.invalidate(TokenScope.Uic);
    this.setState({ kind: "transient_disconnect", retryAt: Date.now(), error });
    setImmediate(() => {
      if (!this.stopped && !this.halted) this.msnp.start();
    });
  }

  private enterBadCredentials(error: SkypeError): void {
    if (this.halted || this.stopped) return;
    this.halted = true;
    this.refusal = error;
    this.refresher.stop(error);
    this.log.warn("Skype no longer accepts this sign-in", { code: error.code });
    this.setState({ kind: "bad_credentials", error });
    this.msnp.stop().catch(() => undefined);
  }

  /** Emits `next` when its kind changed; stores it too unless `persist` is false. */
  private setState(next: SessionState, persist = true): void {
    const changed = next.kind !== this.current.kind;
    this.current = next;
    if (next.kind !== "connecting") this.settle();
    if (!changed) return;
    if (persist) this.persistState(next);
    const detail = stateDetail(next);
    this.log.info("session state changed", { state: next.kind, ...(detail ? { detail } : {}) });
    this.fire("state", next);
  }

  /**
   * The row keeps the session's last settled state: a drop, and the reconnect back to the state
   * already stored, write nothing (a server outage would otherwise be two writes per user, for
   * every user at once). What is shown live comes from the session itself; the row is read only
   * when no session runs (bridge-state.ts).
   */
  private persistState(s: SessionState): void {
    if (s.kind === "transient_disconnect" || s.kind === this.persistedKind) return;
    this.persistedKind = s.kind;
    this.user.saveState(s);
  }

  private persistSyncState(): void {
    if (this.stopped) return;
    this.user.saveSyncState({
      version: 1,
      activeSync: this.contactSync.exportState(),
      addressBook: this.book.exportState(),
    });
  }

  // ---- contacts ----

  /** The MRIs to publish (the MSNP client asks at each login). */
  private contactMris(): string[] {
    return publishedMris(this.refresher.shared());
  }

  private onContacts(list: Contact[], info: ContactsReadInfo): void {
    this.fire("contacts", list, info);
    this.publishContacts();
  }

  /**
   * `PUT MSGR\CONTACTS` with the synced list when it changed. Each login publishes the list of the
   * moment (the client's `getContacts`), and the client publishes a list set during a login's
   * catch-up once the session is ready.
   */
  private publishContacts(): void {
    if (this.stopped || this.halted) return;
    const list = this.refresher.shared();
    // The very list of the last call (a re-read that changed nothing, as at every reconnect of a
    // storm): nothing to compute or publish.
    if (this.digestOf?.list === list) return;
    const mris = publishedMris(list);
    const key = createHash("sha256").update(mris.join("\n")).digest("base64");
    this.digestOf = { list, key };
    if (mris.length === 0 || key === this.publishedContacts) return;
    this.publishedContacts = key;
    this.msnp.setContacts(mris).catch((e: unknown) => {
      const err = asSkypeError(e);
      if (err.code !== SkypeErrorCode.NotConnected)
        this.log.warn("publishing the contact list failed", { error: errorText(err) });
    });
  }

  // ---- Session API ----

  private send(clientMessageId: string | undefined, fn: () => OutgoingMessage): OutgoingMessage {
    try {
      // NOT_CONNECTED even after a refused sign-in, as the client's own outbox does: the bridge
      // keeps such sends for the next session.
      if (this.stopped || this.halted) throw this.notConnected();
      return fn();
    } catch (e) {
      const delivered = Promise.reject(asSkypeError(e));
      delivered.catch(() => undefined);
      return { clientMessageId: clientMessageId ?? newClientMessageId(), delivered };
    }
  }

  sendText(conversation: string, text: string, clientMessageId?: string): OutgoingMessage {
    return this.send(clientMessageId, () => this.msnp.sendText(conversation, text, { clientMessageId }));
  }

  sendRichText(conversation: string, html: string, clientMessageId?: string): OutgoingMessage {
    return this.send(clientMessageId, () => this.msnp.sendRichText(conversation, html, { clientMessageId }));
  }

  sendEmote(conversation: string, text: string, clientMessageId?: string): OutgoingMessage {
    return this.send(clientMessageId, () => this.msnp.sendEmote(conversation, text, { clientMessageId }));
  }

  /** An emote edit is sent as `<display name> <text>` (edits carry no `Skype-EmoteOffset`). */
  editMessage(
    conversation: string,
    originalClientMessageId: string,
    content: { format: "text" | "richtext"; body: string; emote?: boolean },
    clientMessageId?: string,
  ): OutgoingMessage {
    return this.send(clientMessageId, () =>
      this.msnp.editMessage(conversation, originalClientMessageId, content.body, {
        clientMessageId,
        format: content.format,
        emote: content.emote,
      }),
    );
  }

  deleteMessage(
    conversation: string,
    originalClientMessageId: string,
    clientMessageId?: string,
  ): OutgoingMessage {
    return this.send(clientMessageId, () =>
      this.msnp.deleteMessage(conversation, originalClientMessageId, { clientMessageId }),
    );
  }

  downloadMedia(object: UriObject, opts: DownloadOptions): Promise<MediaDownload> {
    return this.guard(() => this.media.download(object, opts));
  }

  mediaStatus(object: UriObject, view: string): Promise<ViewStatus> {
    return this.guard(() => this.media.status(object, view));
  }

  uploadMedia(conversation: string, file: OutgoingFile): Promise<UploadedMedia> {
    return this.guard(() => this.media.upload(conversation, file));
  }

  sendMedia(
    conversation: string,
    media: UploadedMedia,
    clientMessageId?: string,
    editedId?: string,
  ): OutgoingMessage {
    const body = { messageType: media.messageType, xml: media.xml, editedId };
    return this.send(clientMessageId, () => this.msnp.sendMedia(conversation, body, { clientMessageId }));
  }

  sendTyping(conversation: string, typing: boolean): boolean {
    if (this.stopped || this.halted) return false;
    try {
      return this.msnp.sendTyping(conversation, typing);
    } catch (e) {
      this.log.debug("sending a typing indicator failed", { error: errorText(e) });
      return false;
    }
  }

  /** @throws MsnpError when the server refuses; SKYPE_NOT_CONNECTED when offline or not running. */
  async markRead(conversation: string, messageId: string, clientMessageId?: string): Promise<void> {
    if (this.stopped || this.halted) throw this.notRunning();
    await this.msnp.setConsumptionHorizon(conversation, messageId, clientMessageId);
  }

  /** @throws MsnpError when the server refuses; SKYPE_NOT_CONNECTED when the session is not running. */
  async setPresence(status: PresenceStatus): Promise<void> {
    if (this.stopped || this.halted) throw this.notRunning();
    await this.msnp.setPresence(status);
  }

  createThread(members: string[], topic?: string): Promise<ThreadInfo> {
    return this.guard(() => this.msnp.threads.create(members, topic));
  }

  addThreadMembers(threadId: string, mris: string[], role?: ThreadRole): Promise<void> {
    return this.guard(() => this.msnp.threads.addMembers(threadId, mris, role));
  }

  removeThreadMember(threadId: string, mri: string): Promise<void> {
    return this.guard(() => this.msnp.threads.removeMember(threadId, mri));
  }

  setThreadTopic(threadId: string, topic: string): Promise<void> {
    return this.guard(() => this.msnp.threads.setTopic(threadId, topic));
  }

  async acceptContactRequest(mri: string): Promise<void> {
    await this.guard(() => this.book.acceptRequest(mri));
    this.refresher.trigger("request accepted");
  }

  async declineContactRequest(mri: string): Promise<void> {
    await this.guard(() => this.book.declineRequest(mri));
    this.refresher.trigger("request declined");
  }

  async sendContactRequest(who: string, message?: string): Promise<void> {
    await this.guard(() => this.book.sendContactRequest(who, { message, ownDisplayName: this.displayName }));
  }

  async blockContact(who: string): Promise<void> {
    await this.guard(() => this.book.block(who));
    this.refresher.trigger("contact blocked");
  }

  async unblockContact(who: string): Promise<void> {
    await this.guard(() => this.book.unblock(who));
    this.refresher.trigger("contact unblocked");
  }

  blockedContacts(): Promise<BlockedContact[]> {
    return this.guard(() => this.book.findBlockedContacts());
  }

  /**
   * Re-reads contacts and requests now and emits `contacts` and `contactRequests`.
   * @throws SkypeError when a part of the refresh failed (it is retried later in the background).
   */
  resyncContacts(): Promise<void> {
    if (this.stopped || this.halted) return Promise.reject(this.notRunning());
    return this.refresher.refresh("requested");
  }

  contacts(): Contact[] {
    return this.refresher.contacts();
  }

  fetchAvatar(identity: string, etag?: string): Promise<AvatarResult> {
    return this.guard(() => this.avatars.fetch(identity, etag));
  }

  private notConnected(): SkypeError {
    return new SkypeError(SkypeErrorCode.NotConnected, "the Skype session is not running", false);
  }

  /** The error of operations on a session that no longer runs: the sign-in refusal, if that was why. */
  private notRunning(): SkypeError {
    return this.refusal ?? this.notConnected();
  }

  /** Runs an operation; turns refused credentials into the `bad_credentials` state. Rethrows. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.stopped || this.halted) throw this.notRunning();
    try {
      return await fn();
    } catch (e) {
      const err = asSkypeError(e);
      if (err.code === SkypeErrorCode.BadCredentials) this.enterBadCredentials(err);
      throw err;
    }
  }
}
