// SPDX-License-Identifier: Apache-2.0
/**
 * The durable Matrix → Skype outbox. Every send is written to `store.outbox` BEFORE it is handed to
 * the session, and closed (together with its message-map row) once Skype certainly has it, so a
 * send survives reconnects and bridge restarts and is never made twice:
 * - while a session is up, the protocol client's own queue keeps order and re-sends across
 *   reconnects; this class waits for `delivered`;
 * - after a restart (or a new session), pending entries wait until the session has caught up: an
 *   entry whose Client-Message-ID came back in catch-up (a `fromMe` event) is complete; the rest are
 *   re-sent in their original order;
 * - a send Skype refuses (`MsnpError`), one that failed too often, or one that waited too long is
 *   closed and reported in the room as a notice replying to the event.
 */
import { MsnpError, SkypeError, SkypeErrorCode } from "../../skype/errors.js";
import type { MessageEvent, OutgoingMessage, Session } from "../../sessions/types.js";
import type { NewMessage, OutboxRow, Store } from "../../store/types.js";
import type { UploadedMedia } from "../../sessions/media.js";
import { backoffDelay } from "../../util/backoff.js";
import { errorText, Logger } from "../../util/logger.js";
import type { Bridge } from "../bridge.js";
import type { Outcome } from "../metrics/registry.js";
import { clientMessageIdFor } from "../matrix/txn-ids.js";
import { failureReason, type RoomNotices } from "./not-bridged.js";
import { mediaFailureReason, mediaRetryable, sendUploaded, uploadForSkype } from "./outbox-media.js";
import {
  type MediaPayload,
  type OutboxPayload,
  parsePayload,
  payloadSubject,
  sendPayload,
} from "./outbox-payload.js";

const log = new Logger("bridge.outbox");

/** Options of {@link DurableOutbox}. */
export interface OutboxOptions {
  /** Attempts before a send is given up (default 5). */
  maxAttempts?: number;
  /** A send still pending this long after it was queued is given up (default 24 h). */
  maxAgeMs?: number;
  now?: () => number;
  /** Where failure notices go (default: the bot, or the DM's puppet). */
  notices?: RoomNotices;
}

/** One send, as {@link DurableOutbox.submit} takes it. */
export interface OutboxSubmit {
  readonly receiver: string;
  readonly roomId: string;
  /** The Matrix event being bridged; its id determines the Client-Message-ID. */
  readonly eventId: string;
  /** The wire conversation (contact MRI or thread id). */
  readonly conversation: string;
  readonly payload: OutboxPayload;
}

/** What {@link DurableOutbox.submit} did. */
export type SubmitResult = "queued" | "already-queued" | "already-sent" | "not-linked";

/** The fate of an echo: a `fromMe` event seen on a session. */
type Echo = Pick<MessageEvent, "fromMe" | "clientMessageId" | "conversation" | "messageId">;

/**
 * True when a `fromMe` Skype message with this Client-Message-ID was sent by the bridge for a
 * Matrix event (pending in the outbox or already mapped): the Skype → Matrix side must not post it.
 */
export function isSentFromMatrix(
  store: Store,
  receiver: string,
  conversation: string,
  clientMessageId: string,
): boolean {
  const mapped = store.messages.getByClientId(receiver, conversation, clientMessageId);
  if (mapped?.direction === "to_skype") return true;
  return store.outbox.getByClientId(receiver, conversation, clientMessageId) !== undefined;
}

/** The durable outbox; one per bridge. Attach every session (SessionManager.onSession). */
export class DurableOutbox {
  private readonly ready = new Map<string, Session>();
  /** Sends handed to a session; `preparing` while a file's upload runs, before its message is queued. */
  private readonly inflight = new Map<
    number,
    { readonly session: Session; readonly token: symbol; preparing?: boolean }
  >();
  private readonly attached = new WeakSet<Session>();
  private readonly settling = new Set<Promise<void>>();
  private readonly maxAttempts: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly notices: RoomNotices;

  constructor(
    private readonly ctx: Pick<Bridge, "store" | "sessions" | "notices" | "metrics" | "media" | "botUserId">,
    opts: OutboxOptions = {},
  ) {
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.maxAgeMs = opts.maxAgeMs ?? 24 * 3600_000;
    this.now = opts.now ?? Date.now;
    this.notices = opts.notices ?? ctx.notices;
  }

  /**
   * Follows a session: its catch-up completes or releases pending sends, its `fromMe` events close
   * entries that reached Skype before a crash. Call before the session starts (a session attached
   * while already connected is assumed to have caught up). Idempotent.
   */
  attach(session: Session): void {
    if (this.attached.has(session)) return;
    this.attached.add(session);
    const receiver = session.mxid;
    if (this.ready.get(receiver) !== session) this.ready.delete(receiver);
    const echo = (e: Echo): void => this.guarded("echo", () => this.onEcho(receiver, e));
    session.on("message", echo);
    session.on("edit", echo);
    session.on("delete", echo);
    session.on("caughtUp", () => this.guarded("caught-up", () => this.onCaughtUp(session)));
    session.on("state", (s) => {
      if ((s.kind === "logged_out" || s.kind === "bad_credentials") && this.ready.get(receiver) === session)
        this.ready.delete(receiver);
    });
    if (session.state.kind === "connected") this.guarded("attach", () => this.onCaughtUp(session));
  }

  /**
   * Queues a send durably (once per Matrix event) and hands it to the session when it is ready.
   * Synchronous; the store write is committed on return. A user with no Skype account linked gets
   * the failure notice at once (`not-linked`).
   */
  submit(s: OutboxSubmit): SubmitResult {
    const { store } = this.ctx;
    if (store.messages.getByEventId(s.eventId)) return "already-sent";
    const res = store.outbox.enqueue({
      receiver: s.receiver,
      conversation: s.conversation,
      clientMessageId: clientMessageIdFor(s.eventId),
      eventId: s.eventId,
      roomId: s.roomId,
      payload: s.payload,
    });
    if (!this.linked(s.receiver)) {
      this.fail(res.row, s.payload, "you are not signed in to Skype. Send `login` in your management room.");
      return "not-linked";
    }
    this.kick(s.receiver);
    return res.inserted ? "queued" : "already-queued";
  }

  /** Resolves once every send in flight settled and its bookkeeping (and notices) finished. */
  async idle(): Promise<void> {
    while (this.settling.size) await Promise.all([...this.settling]);
  }

  /** Sends handed to a session and not yet settled (for diagnostics and tests). */
  get inFlight(): number {
    return this.inflight.size;
  }

  private linked(receiver: string): boolean {
    return (
      this.ctx.sessions.get(receiver) !== undefined ||
      this.ctx.store.users.get(receiver)?.hasRefreshToken === true
    );
  }

  private onCaughtUp(session: Session): void {
    const current = this.ctx.sessions.get(session.mxid);
    if (current !== undefined && current !== session) return;
    this.ready.set(session.mxid, session);
    this.kick(session.mxid);
  }

  /** Hands every pending entry of `receiver` not yet on the ready session to it, in queue order. */
  private kick(receiver: string): void {
    const session = this.ready.get(receiver);
    if (!session) return;
    // A file's message is queued only once its upload finished: what the user sent after it in the
    // same conversation waits until then, so Skype gets them in the Matrix order.
    const held = new Set<string>();
    for (const row of this.ctx.store.outbox.list(receiver)) {
      const sent = this.inflight.get(row.id);
      if (sent?.session === session) {
        if (sent.preparing) held.add(row.conversation);
        continue;
      }
      if (held.has(row.conversation)) continue;
      this.dispatch(row, session);
      if (this.inflight.get(row.id)?.preparing) held.add(row.conversation);
    }
  }

  private dispatch(row: OutboxRow, session: Session): void {
    const payload = parsePayload(row.payload);
    if (!payload) return this.fail(row, undefined, "the bridge could not read its queued copy.");
    if (row.attempts >= this.maxAttempts)
      return this.fail(row, payload, `Skype did not confirm it after ${row.attempts} attempts.`);
    if (this.now() - row.createdTs > this.maxAgeMs)
      return this.fail(row, payload, "Skype could not be reached for too long.");
    if (payload.kind === "media") return this.dispatchMedia(row, payload, session);
    let out: OutgoingMessage;
    try {
      this.ctx.store.outbox.recordAttempt(row.id, null);
      out = sendPayload(session, row.conversation, row.clientMessageId, payload);
    } catch (e) {
      log.warn("a send was refused before it left", {
        room: row.roomId,
        event: row.eventId,
        error: errorText(e),
      });
      if (e instanceof SkypeError && !e.retryable) this.fail(row, payload, failureReason(e), "refused");
      return;
    }
    const token = Symbol(row.eventId);
    this.inflight.set(row.id, { session, token });
    this.track(
      out.delivered.then(
        () => this.onDelivered(row, payload, token),
        (e: unknown) => this.onRejected(row, payload, token, e),
      ),
    );
  }

  /**
   * A file: download from the homeserver and upload to Skype's object service, then queue its
   * message. A failure that may pass (homeserver or Skype away) is tried again later, up to the
   * attempt limit; a refusal (too large, gone, not allowed) is reported at once.
   */
  private dispatchMedia(row: OutboxRow, payload: MediaPayload, session: Session): void {
    const token = Symbol(row.eventId);
    this.inflight.set(row.id, { session, token, preparing: true });
    const current = (): boolean =>
      this.inflight.get(row.id)?.token === token && this.ctx.store.outbox.get(row.id) !== undefined;
    const prepare = async (): Promise<void> => {
      let uploaded: UploadedMedia;
      try {
        this.ctx.store.outbox.recordAttempt(row.id, null);
        uploaded = await uploadForSkype(this.ctx, session, row.conversation, payload);
      } catch (e) {
        if (!current()) return;
        this.inflight.delete(row.id);
        log.warn("a file could not be uploaded to Skype", {
          room: row.roomId,
          event: row.eventId,
          error: errorText(e),
        });
        if (mediaRetryable(e) && row.attempts + 1 < this.maxAttempts)
          this.kickLater(row.receiver, row.attempts);
        else this.fail(row, payload, mediaFailureReason(e), "refused");
        this.kick(row.receiver);
        return;
      }
      if (!current()) return;
      const out = sendUploaded(session, row.conversation, row.clientMessageId, uploaded, payload.target);
      this.inflight.set(row.id, { session, token });
      this.kick(row.receiver);
      await out.delivered.then(
        () => this.onDelivered(row, payload, token),
        (e: unknown) => this.onRejected(row, payload, token, e),
      );
    };
    this.track(prepare());
  }

  /** Tries the receiver's queue again after a backoff (a file whose upload failed for now). */
  private kickLater(receiver: string, attempt: number): void {
    const delay = backoffDelay(attempt, { initialMs: 2000, maxMs: 60_000, jitter: 0.2 });
    setTimeout(() => this.guarded("retry", () => this.kick(receiver)), delay).unref();
  }

  private onDelivered(row: OutboxRow, payload: OutboxPayload, token: symbol): void {
    if (this.inflight.get(row.id)?.token === token) this.inflight.delete(row.id);
    this.complete(row, payload, undefined);
  }

  private onRejected(row: OutboxRow, payload: OutboxPayload, token: symbol, e: unknown): void {
    if (this.inflight.get(row.id)?.token !== token) return; // re-sent on a newer session since
    this.inflight.delete(row.id);
    if (!this.ctx.store.outbox.get(row.id)) return;
    const retry =
      !(e instanceof MsnpError) &&
      (!(e instanceof SkypeError) || e.retryable || e.code === SkypeErrorCode.NotConnected);
    if (!retry) return this.fail(row, payload, failureReason(e), "refused");
    log.info("a send was interrupted; it is re-sent after the next catch-up", {
      room: row.roomId,
      event: row.eventId,
      error: errorText(e),
    });
    if (row.attempts + 1 >= this.maxAttempts)
      this.fail(row, payload, `Skype did not confirm it after ${row.attempts + 1} attempts.`);
  }

  /** Closes the entry and maps the event (same transaction); a delete marks the original deleted. */
  private complete(row: OutboxRow, payload: OutboxPayload, skypeMessageId: string | undefined): void {
    const { store } = this.ctx;
    if (store.outbox.get(row.id)) this.ctx.metrics.matrixToSkype(row, "delivered"); // once, if still open
    const originalEventId =
      payload.kind === "edit" || payload.kind === "delete" || payload.kind === "media"
        ? payload.originalEventId
        : undefined;
    const original = originalEventId !== undefined ? store.messages.getByEventId(originalEventId) : undefined;
    const message: NewMessage = {
      receiver: row.receiver,
      conversation: row.conversation,
      skypeMessageId: skypeMessageId ?? null,
      clientMessageId: row.clientMessageId,
      roomId: row.roomId,
      eventId: row.eventId,
      direction: "to_skype",
      sender: payload.sender,
      sentTs: payload.ts,
      editOf: original?.id ?? null,
    };
    try {
      store.transaction(() => {
        if (store.outbox.complete(row.id, message) && payload.kind === "delete" && original)
          store.messages.markDeleted(original.id);
      });
    } catch (e) {
      // The map row could not be written (e.g. the portal is gone): still close the entry.
      log.warn("could not map a delivered message", {
        room: row.roomId,
        event: row.eventId,
        error: errorText(e),
      });
      store.outbox.complete(row.id);
    }
  }

  /** Closes the entry and, unless the event was a notice, tells the sender in the room. */
  private fail(row: OutboxRow, payload: OutboxPayload | undefined, reason: string, outcome?: Outcome): void {
    this.inflight.delete(row.id);
    if (!this.ctx.store.outbox.complete(row.id)) return;
    this.ctx.metrics.matrixToSkype(row, outcome ?? "failed");
    log.warn("a Matrix → Skype send failed for good", { room: row.roomId, event: row.eventId, reason });
    if (payload?.quiet) return;
    const target = { roomId: row.roomId, eventId: row.eventId, sender: payload?.sender ?? row.receiver };
    this.track(this.notices.notBridged(target, payload ? payloadSubject(payload) : "message", reason));
  }

  private onEcho(receiver: string, e: Echo): void {
    if (!e.fromMe || e.clientMessageId === undefined) return;
    const { store } = this.ctx;
    const row = store.outbox.getByClientId(receiver, e.conversation, e.clientMessageId);
    if (row) {
      const payload = parsePayload(row.payload);
      if (!payload) return;
      this.inflight.delete(row.id);
      log.info("a queued send was found already on Skype", { room: row.roomId, event: row.eventId });
      return this.complete(row, payload, e.messageId);
    }
    const mapped = store.messages.getByClientId(receiver, e.conversation, e.clientMessageId);
    if (mapped?.direction === "to_skype" && mapped.skypeMessageId === null && e.messageId !== undefined)
      store.messages.setSkypeMessageId(mapped.id, e.messageId);
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((e: unknown) => log.error("outbox bookkeeping failed", { error: errorText(e) }));
    this.settling.add(tracked);
    void tracked.finally(() => this.settling.delete(tracked));
  }

  private guarded(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      log.error(`outbox: handling a session ${what} failed`, { error: errorText(e) });
    }
  }
}
