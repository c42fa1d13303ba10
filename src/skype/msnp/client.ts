// SPDX-License-Identifier: Apache-2.0
/**
 * The MSNP24 messaging client: connection state machine, reconnect with jittered exponential
 * backoff, re-authentication, and the public send/thread/presence API (PROFILE §3, §5).
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { SkypeError, SkypeErrorCode } from "../errors.js";
import { silentLogger, type SkypeLogger } from "../log.js";
import { backoffDelay, DEFAULT_BACKOFF, systemClock } from "./backoff.js";
import { authenticate } from "./login.js";
import { SelfIdentity } from "./identity.js";
import { buildSdgBody, newClientMessageId, type OutgoingContent, type Sender } from "./messages.js";
import { Outbox } from "./outbox.js";
import { consumptionHorizonXml, horizonValue } from "./horizon.js";
import { contactsXml } from "./payloads.js";
import { presenceBody, PresenceTracker } from "./presence.js";
import { Receiver, type Emit } from "./receiver.js";
import { Session, type SessionContext } from "./session.js";
import { ThreadOps } from "./thread-ops.js";
import { asSkypeError, defaultConnect, isBadCredentials } from "./support.js";
import type {
  BackoffOptions,
  MsnpClientEvents,
  MsnpClientOptions,
  MsnpState,
  MsnpTarget,
  OutgoingMessage,
  PresenceStatus,
  SendOptions,
} from "./types.js";

const MAX_REDIRECTS = 3;

/**
 * An MSNP24 client for one account. `start()` connects in the background and keeps the
 * connection alive until `stop()`; progress and failures arrive as `state` events.
 * Events: see {@link MsnpClientEvents}. Listeners must not throw (a throw is logged).
 */
export class MsnpClient extends EventEmitter<MsnpClientEvents> {
  /** The user's identities (`1:<email>`, `8:<skypename>`). */
  readonly self: SelfIdentity;
  /** This endpoint's id (without braces). */
  readonly epid: string;
  /** Thread management (create, members, topic, list). */
  readonly threads: ThreadOps;
  private current: MsnpState = { kind: "logged_out", reason: "not started" };
  private running = false;
  private loop?: Promise<void>;
  private session?: Session;
  private wake?: () => void;
  private sleepTimer?: unknown;
  private readonly log: SkypeLogger;
  private readonly outbox = new Outbox();
  private readonly receiver: Receiver;
  private readonly presence = new PresenceTracker();
  private readonly backoff: BackoffOptions;
  private myStatus: PresenceStatus;
  private myMood: string;
  /**
   * The list set last, for later logins, kept only without `getContacts` (which is asked at each
   * login instead: a list kept here too was ~0.9 KB per idle session).
   */
  private contactList?: readonly string[];
  /** A list was set after the login's `PUT MSGR\CONTACTS` was built and before the session was ready. */
  private contactsUnpublished = false;
  private reauthTimer?: unknown;
  /** A first link's history, until one catch-up finished. */
  private historyPending: MsnpClientOptions["initialHistory"];

  constructor(private readonly options: MsnpClientOptions) {
    super();
    this.log = options.logger ?? silentLogger;
    this.self = new SelfIdentity(options.credentials.email, options.credentials.skypename);
    this.epid = (options.epid ?? randomUUID()).replace(/^\{|\}$/g, "").toLowerCase();
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.myStatus = options.initialPresence?.status ?? "NLN";
    this.myMood = options.initialPresence?.mood ?? "";
    this.receiver = new Receiver(this.emitSafe, this.log);
    this.threads = new ThreadOps(() => this.onlineSession(), this.self);
    this.historyPending = options.initialHistory;
  }

  /** The current connection state. */
  get state(): MsnpState {
    return this.current;
  }

  /** Last seen Message-ID per conversation (what the caller should persist). */
  cursors(): Record<string, string> {
    return Object.fromEntries(this.receiver.cursors);
  }

  private readonly emitSafe: Emit = (event, ...args) => {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (e) {
      this.log.error("msnp: an event listener threw", { event, error: String(e) });
    }
  };

  private setState(s: MsnpState): void {
    this.current = s;
    this.emitSafe("state", s);
  }

  /** Starts connecting in the background (no-op when running). Never throws; no I/O before returning. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run().catch((e: unknown) => {
      this.log.error("msnp: the connection loop failed", { error: String(e) });
      this.running = false;
      this.setState({ kind: "transient_disconnect", retryAt: this.clock.now(), error: asSkypeError(e) });
    });
  }

  /**
   * Signs out cleanly (`OUT`), closes the connection and fails queued sends with
   * `SKYPE_NOT_CONNECTED`. Never throws. The state ends as `logged_out` with reason `stopped`.
   */
  async stop(): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    this.clearReauth();
    if (this.sleepTimer !== undefined) this.clock.clearTimeout(this.sleepTimer);
    this.wake?.();
    const s = this.session;
    if (s) {
      s.signOut();
      // Give the server a moment to read OUT and close its side before cutting the socket.
      let timer: unknown;
      await Promise.race([s.done, new Promise<void>((r) => (timer = this.clock.setTimeout(r, 1000)))]);
      this.clock.clearTimeout(timer);
      s.conn.close(new SkypeError(SkypeErrorCode.NotConnected, "client stopped", false));
    }
    await this.loop;
    this.outbox.rejectAll("the MSNP client was stopped");
    if (wasRunning || this.current.kind !== "logged_out")
      this.setState({ kind: "logged_out", reason: "stopped" });
  }

  private get clock() {
    return this.options.clock ?? systemClock;
  }

  private context(): SessionContext {
    const o = this.options;
    return {
      credentials: o.credentials,
      epid: this.epid,
      self: this.self,
      clock: this.clock,
      logger: this.log,
      maxFrameBytes: o.maxFrameBytes ?? 1024 * 1024,
      requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
      initialPingSeconds: o.initialPingSeconds ?? 20,
      historyPageSize: o.historyPageSize ?? 100,
      initialHistory: this.historyPending,
      outbox: this.outbox,
      receiver: this.receiver,
      presence: this.presence,
      emit: this.emitSafe,
      presenceBody: () => this.presenceBody(),
      contactsDocument: () => this.contactsDocument(),
      getCursors: o.getCursors,
      onThread: (t) => this.threads.noteThread(t),
    };
  }

  private async contacts(): Promise<readonly string[]> {
    if (this.contactList) return this.contactList;
    try {
      return (await this.options.getContacts?.()) ?? [];
    } catch (e) {
      this.log.warn("msnp: could not read the contact list", { error: String(e) });
      return [];
    }
  }

  private presenceBody(): Buffer {
    return presenceBody(
      this.self.skype,
      this.epid,
      this.myStatus,
      this.myMood,
      this.options.credentials.skypename,
    );
  }

  private async run(): Promise<void> {
    let attempt = 0;
    let reconnecting = false;
    while (this.running) {
      const release = reconnecting ? await this.admitted() : () => undefined;
      if (!this.running) {
        release();
        return;
      }
      reconnecting = true;
      this.setState({ kind: "connecting" });
      let reachedReady = false;
      let error: SkypeError;
      try {
        error = await this.runSession(() => {
          reachedReady = true;
          release();
        });
      } catch (e) {
        error = asSkypeError(e);
      } finally {
        release();
      }
      this.clearReauth();
      if (!this.running) return;
      if (reachedReady) attempt = 0;
      if (isBadCredentials(error)) {
        this.log.warn("msnp: credentials refused", { error: error.message });
        this.running = false;
        this.setState({ kind: "bad_credentials", error });
        return;
      }
      if (error.code === SkypeErrorCode.SignedOut && !error.retryable) {
        this.running = false;
        this.setState({ kind: "logged_out", reason: "OTH" });
        return;
      }
      const delay = backoffDelay(attempt++, this.backoff, this.options.random ?? Math.random);
      const retryAt = this.clock.now() + delay;
      const ctx = { error: error.message, code: error.code, delayMs: delay };
      if (error.code === SkypeErrorCode.Network) this.log.warn("msnp: disconnected, will retry", ctx);
      else this.log.error("msnp: disconnected by a protocol error, will retry", ctx);
      this.setState({ kind: "transient_disconnect", retryAt, error });
      await this.sleep(delay);
    }
  }

  /**
   * Waits for the reconnect gate (when one is set). A stop meanwhile ends the wait at once; the slot,
   * when it comes, is given straight back.
   */
  private async admitted(): Promise<() => void> {
    const gate = this.options.reconnectGate;
    if (!gate) return () => undefined;
    // A gate that fails must not stop reconnecting: the attempt goes ahead unpaced.
    const slot = gate().then(
      (release) => {
        let held = true;
        return () => {
          if (!held) return;
          held = false;
          release();
        };
      },
      () => () => undefined,
    );
    const stopped = new Promise<"stopped">((resolve) => (this.wake = () => resolve("stopped")));
    const first = await Promise.race([slot, stopped]);
    if (first !== "stopped") return first;
    void slot.then((release) => release());
    return () => undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = this.clock.setTimeout(() => {
        this.sleepTimer = undefined;
        resolve();
      }, ms);
    });
  }

  /** One connection, following redirects; returns the error that ended it. */
  private async runSession(onReady: () => void): Promise<SkypeError> {
    let target: MsnpTarget = {
      host: this.options.host,
      port: this.options.port,
      tls: this.options.tls ?? false,
      ca: this.options.tlsCa,
    };
    let xfrState: string | undefined;
    for (let redirects = 0; ; redirects++) {
      const session = new Session(this.context(), (this.options.connect ?? defaultConnect)(target));
      this.session = session;
      try {
        const outcome = await session.login(xfrState);
        if (outcome.kind === "redirect") {
          session.conn.close(new SkypeError(SkypeErrorCode.Network, "redirected", true));
          if (redirects >= MAX_REDIRECTS)
            throw new SkypeError(SkypeErrorCode.Network, "too many MSNP redirects", true);
          target = { ...target, host: outcome.redirect.host, port: outcome.redirect.port };
          xfrState = outcome.redirect.state;
          continue;
        }
        if (!this.running) throw new SkypeError(SkypeErrorCode.NotConnected, "client stopped", false);
        // The server tells a new connection everything afresh, and never sends a DEL for an
        // endpoint that left while we were away: what the last connection learnt must go.
        this.presence.reset();
        this.setState({ kind: "connected" });
        await session.afterLogin();
        this.historyPending = undefined;
        this.publishUnpublishedContacts(session);
        onReady();
        this.scheduleReauth();
        return await session.done;
      } catch (e) {
        const err = asSkypeError(e);
        session.conn.close(err);
        return err;
      } finally {
        session.stopTimers();
        this.outbox.onDisconnect(session.conn.id);
        if (this.session === session) this.session = undefined;
      }
    }
  }

  private scheduleReauth(): void {
    const interval = this.options.reauthIntervalMs;
    const every = typeof interval === "function" ? interval() : interval;
    if (!every || every <= 0) return;
    this.reauthTimer = this.clock.setTimeout(() => {
      this.reauthTimer = undefined;
      this.reauthenticate().then(
        () => this.scheduleReauth(),
        (e: unknown) => this.log.warn("msnp: periodic re-authentication failed", { error: String(e) }),
      );
    }, every);
  }

  private clearReauth(): void {
    if (this.reauthTimer !== undefined) this.clock.clearTimeout(this.reauthTimer);
    this.reauthTimer = undefined;
  }

  private onlineSession(): Session {
    const s = this.session;
    if (!s || !s.ready || s.conn.isClosed)
      throw new SkypeError(SkypeErrorCode.NotConnected, "not connected to MSNP", true);
    return s;
  }

  /**
   * Re-sends `ATH` on the live connection with a fresh ticket and UIC (after a token refresh).
   * Network I/O. @throws SkypeError `SKYPE_NOT_CONNECTED` when offline; the credentials' errors;
   * MsnpError 911. Refused credentials also move the client to `bad_credentials` and close it.
   */
  async reauthenticate(): Promise<void> {
    const s = this.onlineSession();
    try {
      await authenticate(s.conn, this.options.credentials, s.nonce, true);
      this.log.info("msnp: re-authenticated");
    } catch (e) {
      const err = asSkypeError(e);
      if (isBadCredentials(err)) {
        s.signOut();
        s.conn.close(err);
      }
      throw err;
    }
  }

  private enqueue(conversation: string, content: OutgoingContent, opts?: SendOptions): OutgoingMessage {
    if (!/^\d+:\S+$/.test(conversation)) {
      throw new SkypeError(
        SkypeErrorCode.InvalidArgument,
        "the conversation must be an MRI such as 8:name",
        false,
      );
    }
    const clientMessageId = opts?.clientMessageId ?? newClientMessageId();
    if (!/^\d{1,30}$/.test(clientMessageId)) {
      throw new SkypeError(SkypeErrorCode.InvalidArgument, "a Client-Message-ID is a decimal number", false);
    }
    const sender = this.sender();
    this.receiver.rememberSent(conversation, clientMessageId);
    const delivered = this.outbox.add(clientMessageId, conversation, () =>
      buildSdgBody(conversation, sender, content, clientMessageId),
    );
    delivered.catch(() => undefined);
    this.session?.flushOutbox();
    return { clientMessageId, delivered };
  }

  private sender(): Sender {
    const displayName = this.options.displayName ?? this.options.credentials.skypename;
    return { mri: this.self.skype, epid: this.epid, displayName };
  }

  /**
   * Sends plain text to a contact MRI or a thread id. Queued while disconnected.
   * @throws SkypeError `SKYPE_INVALID_ARGUMENT` for a malformed conversation or id (synchronously).
   */
  sendText(conversation: string, text: string, opts?: SendOptions): OutgoingMessage {
    return this.enqueue(conversation, { kind: "text", text }, opts);
  }

  /** Sends rich text (Skype's HTML subset, already XML-escaped). Same contract as {@link sendText}. */
  sendRichText(conversation: string, html: string, opts?: SendOptions): OutgoingMessage {
    return this.enqueue(conversation, { kind: "richtext", html }, opts);
  }

  /** Sends a `/me` action: the display name, a space, then `text`. Same contract as {@link sendText}. */
  sendEmote(conversation: string, text: string, opts?: SendOptions): OutgoingMessage {
    return this.enqueue(conversation, { kind: "emote", text }, opts);
  }

  /** Replaces the text of the message sent with Client-Message-ID `editedId`. Same contract as {@link sendText}. */
  editMessage(
    conversation: string,
    editedId: string,
    text: string,
    opts?: SendOptions & { format?: "text" | "richtext"; emote?: boolean },
  ): OutgoingMessage {
    return this.enqueue(
      conversation,
      { kind: "edit", editedId, text, format: opts?.format ?? "text", emote: opts?.emote },
      opts,
    );
  }

  /**
   * Sends an image or a file whose object is already uploaded (PROFILE §7.3): `xml` is the
   * URIObject body, `messageType` its Message-Type; with `editedId`, it replaces that message.
   * Same contract as {@link sendText}.
   */
  sendMedia(
    conversation: string,
    media: { messageType: string; xml: string; editedId?: string },
    opts?: SendOptions,
  ): OutgoingMessage {
    return this.enqueue(conversation, { kind: "media", ...media }, opts);
  }

  /** Deletes the message sent with Client-Message-ID `editedId` (an edit with an empty body). */
  deleteMessage(conversation: string, editedId: string, opts?: SendOptions): OutgoingMessage {
    return this.enqueue(conversation, { kind: "delete", editedId, format: "text" }, opts);
  }

  /** Sends a typing indicator; best effort: returns false (and sends nothing) when offline. Never throws. */
  sendTyping(conversation: string, typing: boolean): boolean {
    const s = this.session;
    if (!s || !s.ready || s.conn.isClosed) return false;
    s.sendControl(buildSdgBody(conversation, this.sender(), { kind: "typing", typing }));
    return true;
  }

  /**
   * Sets the published presence (kept for later logins). Network I/O when connected.
   * @throws MsnpError when the server refuses; nothing when offline.
   */
  async setPresence(status: PresenceStatus, mood?: string): Promise<void> {
    this.myStatus = status;
    if (mood !== undefined) this.myMood = mood;
    const s = this.session;
    if (s?.ready && !s.conn.isClosed) await s.request("PUT", "MSGR\\PRESENCE", this.presenceBody());
  }

  /**
   * Marks `conversation` read up to the message with server id `messageId` (PROFILE §7.5:
   * `PUT MSGR\CONSUMPTIONHORIZON`, horizon `{messageId};{now ms};{clientMessageId or messageId}`).
   * Network I/O. @throws SkypeError `SKYPE_NOT_CONNECTED` when offline (read state is not queued:
   * the next read marks it again), `SKYPE_INVALID_ARGUMENT` for a malformed id; MsnpError when the
   * server refuses.
   */
  async setConsumptionHorizon(
    conversation: string,
    messageId: string,
    clientMessageId?: string,
  ): Promise<void> {
    if (!/^\d+:\S+$/.test(conversation) || !/^\d{1,30}$/.test(messageId)) {
      throw new SkypeError(SkypeErrorCode.InvalidArgument, "a horizon needs an MRI and a Message-ID", false);
    }
    const body = consumptionHorizonXml(
      conversation,
      horizonValue(messageId, this.clock.now(), clientMessageId),
    );
    await this.onlineSession().request("PUT", "MSGR\\CONSUMPTIONHORIZON", body);
  }

  /**
   * Replaces the contact list published with `PUT MSGR\CONTACTS`: at once when the session is
   * ready, else as soon as it is (a list set during a login's catch-up). Later logins publish what
   * `getContacts` gives, or without it this list. Network I/O when connected.
   * @throws MsnpError when the server refuses.
   */
  async setContacts(mris: readonly string[]): Promise<void> {
    if (!this.options.getContacts) this.contactList = mris;
    const s = this.session;
    if (s?.ready && !s.conn.isClosed) {
      await s.request("PUT", "MSGR\\CONTACTS", contactsXml(mris));
      return;
    }
    this.contactsUnpublished = true;
  }

  /** Publishes a list set while the session was not ready yet (its login carried an older one). */
  private publishUnpublishedContacts(session: Session): void {
    if (!this.contactsUnpublished) return;
    this.contactsUnpublished = false;
    this.contactsDocument()
      .then((doc) => session.request("PUT", "MSGR\\CONTACTS", doc))
      .catch((e: unknown) => this.log.warn("msnp: publishing the contact list failed", { error: String(e) }));
  }

  /**
   * The contact list's document, for the login or a list set during it. Built for each publish and
   * not kept: it is ~8 KB for 50 contacts, and a copy kept for the next login stayed for the
   * session's life (BENCHMARKS.md, cause 5).
   */
  private async contactsDocument(): Promise<string> {
    this.contactsUnpublished = false;
    return contactsXml(await this.contacts());
  }
}
