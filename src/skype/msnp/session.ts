// SPDX-License-Identifier: Apache-2.0
/**
 * One connection's life: login, the post-login PUTs (PROFILE §3), catch-up, keepalive (`PNG`
 * every `<wait>` seconds, two missed replies = dead), pushes (`SDG`/`NFY`/`OUT`, each `ACK`ed by
 * its `Ack-Id`) and outgoing `SDG`s with proof of delivery (a reply to a later frame).
 */
import type { Duplex } from "node:stream";
import { MsnpError, SkypeError, SkypeErrorCode } from "../errors.js";
import type { SkypeLogger } from "../log.js";
import { parseMultipart } from "./body.js";
import { runCatchUp, planCatchUp, planHistory, chronological } from "./catchup.js";
import { frameReason, MsnpConnection } from "./connection.js";
import { bodyText, type Frame } from "./framing.js";
import { parseRecentConversations, type RecentConversation } from "./history.js";
import { horizonsFromRecent, parseHorizonNotification } from "./horizon.js";
import { isThreadId, type SelfIdentity } from "./identity.js";
import { login, type LoginOutcome } from "./login.js";
import { rawFromPush, type RawMessage } from "./messages.js";
import type { Outbox } from "./outbox.js";
import { recentConversationsXml, subscriptionsXml } from "./payloads.js";
import type { PresenceTracker } from "./presence.js";
import type { Emit, Receiver } from "./receiver.js";
import { parseThreads } from "./threads.js";
import type { InitialHistory, MsnpClock, MsnpCredentials, ThreadInfo } from "./types.js";
import { findFirst, parseXml } from "../xml.js";

/** What a session shares with its client. */
export interface SessionContext {
  credentials: MsnpCredentials;
  epid: string;
  self: SelfIdentity;
  clock: MsnpClock;
  logger: SkypeLogger;
  maxFrameBytes: number;
  requestTimeoutMs: number;
  initialPingSeconds: number;
  historyPageSize: number;
  /** History to read back at this catch-up (a first link's, until one catch-up finished). */
  initialHistory?: InitialHistory;
  outbox: Outbox;
  receiver: Receiver;
  presence: PresenceTracker;
  emit: Emit;
  /** Builds the `PUT MSGR\PRESENCE` body for the current presence. */
  presenceBody(): Buffer;
  /** The `PUT MSGR\CONTACTS` document of the contact list to publish. */
  contactsDocument(): Promise<string>;
  getCursors?: () => Promise<Record<string, string>>;
  /** Called for every `NFY MSGR\THREAD` before `threadUpdate` is emitted. */
  onThread(info: ThreadInfo): void;
}

const key = (a: string, b: string): string => `${a}\n${b}`;

/** One MSNP24 connection and what runs on it. */
export class Session {
  readonly conn: MsnpConnection;
  /** The CNT nonce (UICs are bound to it; re-authentication needs it again). */
  nonce = "";
  /** True once catch-up finished: sends are written at once. */
  ready = false;
  /** The `OUT` reason, if the server sent one. */
  outReason?: string;
  /** Resolves with the close error when the connection is gone. */
  readonly done: Promise<SkypeError>;
  private catchingUp = false;
  private buffered: RawMessage[] = [];
  private pingSeconds: number;
  private pingTimer?: unknown;
  private unansweredPings = 0;
  private probeTimer?: unknown;
  private lastProbeTrid = 0;

  constructor(
    private readonly ctx: SessionContext,
    socket: Duplex,
  ) {
    this.pingSeconds = ctx.initialPingSeconds;
    this.conn = new MsnpConnection(socket, {
      maxFrameBytes: ctx.maxFrameBytes,
      requestTimeoutMs: ctx.requestTimeoutMs,
      clock: ctx.clock,
      logger: ctx.logger,
    });
    this.done = new Promise((resolve) => this.conn.once("closed", resolve));
    this.conn.on("closed", () => this.stopTimers());
    this.conn.on("frame", (f) => this.onPush(f));
    this.conn.on("reply", (f) => this.onReply(f));
  }

  /** Logs in (see {@link login}); records the nonce. */
  async login(xfrState?: string): Promise<LoginOutcome> {
    const outcome = await login(this.conn, this.ctx.credentials, this.ctx.epid, xfrState);
    if (outcome.kind === "online") this.nonce = outcome.nonce;
    return outcome;
  }

  /** Sends a request carrying the registration cookie and awaits its reply. */
  request(command: string, type: string, body: string | Buffer): Promise<Frame> {
    return this.conn.request(command, type, { body });
  }

  /**
   * Presence, contacts, subscriptions, recent conversations, catch-up, then the outbox.
   * @throws the connection's close error, or an MsnpError refusing a login-time PUT.
   */
  async afterLogin(): Promise<void> {
    const c = this.ctx;
    this.catchingUp = true;
    await this.request("PUT", "MSGR\\PRESENCE", c.presenceBody());
    await this.request("PUT", "MSGR\\CONTACTS", await c.contactsDocument());
    await this.request("PUT", "MSGR\\SUBSCRIPTIONS", subscriptionsXml());
    const recentReply = await this.request("GET", "MSGR\\RECENTCONVERSATIONS", recentConversationsXml());
    this.startKeepalive();
    let recent: RecentConversation[] = [];
    try {
      recent = parseRecentConversations(bodyText(recentReply));
    } catch (e) {
      c.logger.warn("msnp: unreadable recent conversations", { error: String(e) });
    }
    for (const r of recent) if (isThreadId(r.id)) c.onThread({ id: r.id, members: [] });
    await this.catchUp(recent);
    this.ready = true;
    this.flushOutbox();
  }

  private async catchUp(recent: RecentConversation[]): Promise<void> {
    const c = this.ctx;
    try {
      if (c.getCursors) c.receiver.mergeCursors(await c.getCursors());
    } catch (e) {
      c.logger.warn("msnp: could not read the saved cursors", { error: String(e) });
    }
    const plan = planCatchUp({
      cursors: c.receiver.cursors,
      watermark: c.receiver.watermark(),
      recent,
      mustRead: c.outbox.unknownConversations(),
    });
    const deps = {
      get: (type: string, body: string) => this.request("GET", type, body),
      self: c.self,
      pageSize: c.historyPageSize,
      logger: c.logger,
    };
    const onError = (conv: string, e: unknown): void => {
      if (!(e instanceof MsnpError) && !(e instanceof SkypeError && e.code === SkypeErrorCode.Parse)) throw e;
      c.logger.warn("msnp: catch-up of a conversation failed", { conversation: conv, error: e.message });
    };
    // A first link reads back the newest messages of its most recent conversations (never seen:
    // no cursor), instead of starting them from the watermark.
    const backfillIds = c.initialHistory
      ? planHistory(recent, c.receiver.cursors, c.initialHistory.conversations)
      : [];
    for (const conv of backfillIds) plan.delete(conv);
    const history = await runCatchUp(deps, plan, onError);
    const backfill =
      backfillIds.length > 0 && c.initialHistory
        ? await runCatchUp(
            deps,
            new Map(backfillIds.map((id) => [id, "0"])),
            onError,
            c.initialHistory.messages,
          )
        : [];
    if (backfillIds.length > 0)
      c.logger.info("msnp: read the history of a first link", {
        conversations: backfillIds.length,
        messages: backfill.length,
      });
    const fromHistory = new Set(backfill);
    const found = new Set(
      history
        .filter((m) => m.fromMe && m.clientMessageId)
        .map((m) => key(m.conversation, m.clientMessageId!)),
    );
    const live = new Set(this.buffered);
    const merged = chronological([...history, ...backfill, ...this.buffered]);
    this.buffered = [];
    this.catchingUp = false;
    let delivered = 0;
    for (const m of merged) {
      const source = live.has(m) ? "live" : fromHistory.has(m) ? "history" : "catchup";
      if (c.receiver.deliver(m, source)) delivered++;
    }
    // Read state after the messages it refers to (PROFILE §7.5: horizons are not re-sent live).
    for (const r of recent) for (const h of horizonsFromRecent(r, c.self)) c.emit("horizon", h);
    const fate = c.outbox.reconcile((conv, id) => found.has(key(conv, id)));
    if (fate.delivered || fate.resend)
      c.logger.info("msnp: sends of unknown fate checked against history", fate);
    c.emit("caughtUp", { messages: delivered });
  }

  /** Writes every queued message and arranges the proof of delivery. */
  flushOutbox(): void {
    if (!this.ready || this.conn.isClosed) return;
    const n = this.ctx.outbox.flush((body) => ({
      trid: this.conn.send("SDG", "MSGR", { body }),
      connectionId: this.conn.id,
    }));
    if (n > 0) this.scheduleProbe();
  }

  /** Writes a typing indicator (never queued, never confirmed). */
  sendControl(body: Buffer): void {
    this.conn.send("SDG", "MSGR", { body });
  }

  /** A `PNG` soon after a burst of SDGs: its reply confirms them. */
  private scheduleProbe(): void {
    if (this.probeTimer !== undefined) return;
    this.probeTimer = this.ctx.clock.setTimeout(() => {
      this.probeTimer = undefined;
      if (this.conn.isClosed) return;
      if (this.ctx.outbox.lastWrittenTrid(this.conn.id) > this.lastProbeTrid)
        this.lastProbeTrid = this.sendPing();
    }, 0);
  }

  private sendPing(): number {
    const last = this.ctx.receiver.lastMessageId ?? "0";
    return this.conn.send("PNG", "CON", { headers: [["Last-Msg-Id", last]] });
  }

  private startKeepalive(): void {
    this.sendPing();
    this.unansweredPings = 1;
    this.schedulePing();
  }

  private schedulePing(): void {
    this.pingTimer = this.ctx.clock.setTimeout(() => this.pingTick(), this.pingSeconds * 1000);
  }

  private pingTick(): void {
    this.pingTimer = undefined;
    if (this.conn.isClosed) return;
    if (this.unansweredPings >= 2) {
      this.ctx.logger.warn("msnp: two keepalive replies missed, dropping the connection");
      this.conn.close(
        new SkypeError(SkypeErrorCode.Network, "the MSNP server stopped answering pings", true),
      );
      return;
    }
    this.sendPing();
    this.unansweredPings++;
    this.schedulePing();
  }

  /** Stops keepalive and probe timers. */
  stopTimers(): void {
    if (this.pingTimer !== undefined) this.ctx.clock.clearTimeout(this.pingTimer);
    if (this.probeTimer !== undefined) this.ctx.clock.clearTimeout(this.probeTimer);
    this.pingTimer = this.probeTimer = undefined;
  }

  private onReply(f: Frame): void {
    this.ctx.outbox.onReply(this.conn.id, f);
    if (f.command === "PNG") {
      this.unansweredPings = 0;
      const text = bodyText(f).trim();
      try {
        const wait = text ? Number(findFirst(parseXml(text), "wait")?.text.trim()) : NaN;
        if (Number.isFinite(wait) && wait > 0) this.pingSeconds = Math.min(Math.max(wait, 1), 3600);
      } catch (e) {
        this.ctx.logger.debug("msnp: unreadable ping reply", { error: String(e) });
      }
      // The next ping is due `wait` seconds after this proof of life.
      if (this.pingTimer !== undefined) {
        this.ctx.clock.clearTimeout(this.pingTimer);
        this.schedulePing();
      }
    } else if (f.command === "715") {
      this.ctx.logger.warn("msnp: the server refused our registration cookie (715), reconnecting");
      this.conn.close(new MsnpError(715, "registration refused", true));
    }
    if (this.ready && !this.conn.isClosed) this.flushOutbox();
  }

  private onPush(f: Frame): void {
    const ackId = f.headers.get("Ack-Id");
    try {
      this.handlePush(f);
    } catch (e) {
      // The code says why (SKYPE_UNSAFE_XML for an entity bomb, SKYPE_PARSE, …); the push is
      // dropped and the connection stays up: one bad push is no reason to lose the others.
      const code = e instanceof SkypeError ? e.code : undefined;
      this.ctx.logger.warn("msnp: unreadable push", {
        command: f.command,
        type: f.type,
        code,
        error: String(e),
      });
    }
    if (ackId !== undefined && !this.conn.isClosed)
      this.conn.send("ACK", "MSGR", { headers: [["Ack-Id", ackId]] });
  }

  private handlePush(f: Frame): void {
    const c = this.ctx;
    const type = f.type.toUpperCase();
    if (f.command === "SDG") {
      const raw = rawFromPush(parseMultipart(f.body), c.self);
      if (!raw) return c.logger.warn("msnp: message push without routing");
      if (isThreadId(raw.conversation)) c.onThread({ id: raw.conversation, members: [] });
      const control = raw.messageType.toLowerCase().startsWith("control/");
      if (this.catchingUp && !control) this.buffered.push(raw);
      else c.receiver.deliver(raw, "live");
    } else if (f.command === "NFY") {
      if (type === "MSGR\\PUT" || type === "MSGR\\DEL") {
        const ev = c.presence.apply(parseMultipart(f.body), type === "MSGR\\DEL", (m) => c.self.isMe(m));
        if (ev) c.emit("presence", ev);
      } else if (type === "MSGR\\THREAD") {
        for (const t of parseThreads(bodyText(f))) {
          c.onThread(t);
          c.emit("threadUpdate", t);
        }
      } else if (type === "MSGR\\CONSUMPTIONHORIZON") {
        const h = parseHorizonNotification(f.body, c.self);
        if (h) c.emit("horizon", h);
        else c.logger.debug("msnp: horizon notification without conversation or reader");
      } else if (type === "MSGR\\ABCH") c.emit("addressBookChanged");
      else c.logger.debug("msnp: ignored notification", { type: f.type });
    } else if (f.command === "OUT") {
      this.outReason = bodyText(f).trim().split(/\s+/)[0]?.toUpperCase() || "UNKNOWN";
      const elsewhere = this.outReason === "OTH";
      c.logger.info("msnp: the server signed us out", { reason: this.outReason });
      this.conn.close(
        new SkypeError(SkypeErrorCode.SignedOut, `signed out by the server (${frameReason(f)})`, !elsewhere),
      );
    } else if (/^\d{3}$/.test(f.command)) {
      c.logger.warn("msnp: unsolicited error from the server", { code: f.command, reason: frameReason(f) });
    } else c.logger.debug("msnp: ignored push", { command: f.command, type: f.type });
  }

  /** Sends `OUT` and ends the stream (clean sign-out). */
  signOut(): void {
    if (this.conn.isClosed) return;
    this.conn.send("OUT", "CON", { bare: true }, false);
    this.conn.end();
  }
}
