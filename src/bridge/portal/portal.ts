// SPDX-License-Identifier: Apache-2.0
/**
 * A portal: one linked user's Skype conversation (a DM with a person, or a group thread) and the
 * Matrix room that carries it (bridgev2's `Portal`). The portal owns its ordered event handling:
 * Skype events and Matrix events of the conversation run one at a time through its queue, so a
 * burst keeps its order, an edit never overtakes its message, and a Matrix reply never overtakes the
 * Skype message it answers. The handlers live beside it: from-skype.ts, from-skype-threads.ts and
 * from-matrix.ts; this file has the steps they share.
 *
 * A portal exists (in memory) before its room does: the room is created by the first event that
 * needs one (`ensureRoom`), and recorded in store.portals.
 *
 * Nothing is lost in silence, either way: a transient failure (the database busy) is retried in
 * place, holding the portal's later events behind it; a Skype message that still fails is reported
 * to the user (undelivered.ts) and holds the catch-up cursor until it is; a Matrix event that still
 * fails gets the "not bridged" notice.
 */
import type { ThreadInfo } from "../../sessions/types.js";
import type { MessageMeta } from "../../skype/msnp/types.js";
import type { PortalKind, PortalRow } from "../../store/types.js";
import type { Bridge } from "../bridge.js";
import type { MentionTarget } from "../convert/index.js";
import type { PuppetInfo } from "../ghosts/puppets.js";
import { isRefusedCredential } from "../matrix/double-puppet.js";
import { isForbidden, matrixErrorInfo, withRetry } from "../matrix/errors.js";
import { isTransient, logRetries, retryTransient, TRANSIENT_RETRY } from "../matrix/transient.js";
import { txnIdFor } from "../matrix/txn-ids.js";
import type { LinkedUser } from "../user/linked-users.js";
import { errorText, Logger } from "../../util/logger.js";
import { handleMatrixEvent, handleMatrixTyping } from "./from-matrix.js";
import { handleSkypeEvent, type SkypeEvent } from "./from-skype.js";
import { isHistory } from "./history.js";
import type { MatrixRoomEvent } from "./matrix-event-kinds.js";
import { failureReason, subjectOf } from "./not-bridged.js";
import { isSentFromMatrix } from "./outbox.js";
import { PortalError, PortalErrorCode, undeliveredKind } from "./skype-failures.js";
import { UndeliveredMessages } from "./undelivered.js";

const log = new Logger("bridge.portal");

/** A puppet speaking in a portal. */
export interface Speaker extends PuppetInfo {
  /** True for the user's own puppet (their messages from another Skype endpoint). */
  self: boolean;
  /** True when that is the user's real Matrix account (double puppeting). */
  double?: boolean;
}

export class Portal {
  /** The latest thread info (group portals): topic and members. */
  thread: ThreadInfo;
  /** Puppets currently shown typing in the room. */
  readonly typingPuppets = new Set<string>();
  /** Whether the linked user was last seen typing in the room (forwarded to Skype). */
  userTyping = false;
  /** Skype messages not bridged and not yet reported, and their hold on the cursors. */
  readonly undelivered = new UndeliveredMessages(this);

  constructor(
    readonly bridge: Bridge,
    /** The linked Matrix user the portal belongs to. */
    readonly receiver: string,
    /** The person id (DM) or the thread id (group). */
    readonly id: string,
    readonly kind: PortalKind,
  ) {
    this.thread = { id, members: [] };
  }

  /** The key of the portal's queue. */
  get key(): string {
    return `${this.receiver}\n${this.id}`;
  }

  get user(): LinkedUser {
    return this.bridge.users.get(this.receiver);
  }

  /** The stored portal (undefined until its room exists). */
  get row(): PortalRow | undefined {
    return this.bridge.store.portals.get(this.receiver, this.id);
  }

  get roomId(): string | undefined {
    return this.row?.roomId;
  }

  /**
   * Where the portal's messages go on Skype: the identity the person last wrote from (else their
   * `8:`), or the thread id.
   */
  get skypeConversation(): string {
    if (this.kind === "group") return this.id;
    return this.bridge.store.persons.replyIdentity(this.id) ?? this.id;
  }

  /** Queues `task` behind the portal's earlier events; resolves when it ran (never rejects). */
  enqueue(task: () => Promise<void>): Promise<void> {
    return this.bridge.portals.queue.push(this.key, task);
  }

  /** Runs `fn`, retrying transient failures in place (waiting as the bridge's Matrix retries do). */
  private retryInPlace(what: string, fn: () => Promise<void>): Promise<void> {
    const sleep = this.bridge.retry.sleep;
    const policy = sleep ? { ...TRANSIENT_RETRY, sleep } : TRANSIENT_RETRY;
    return retryTransient(policy, fn, logRetries(log, what, { user: this.receiver }));
  }

  /**
   * Handles one event from the user's Skype session (call through {@link enqueue}): earlier
   * undelivered messages are reported first if they could not be; a message that fails for good is
   * reported. Throws only for events that are not messages (typing, thread info).
   */
  async handleSkypeEvent(e: SkypeEvent): Promise<void> {
    await this.undelivered.retry();
    try {
      await this.retryInPlace("a Skype event", () => handleSkypeEvent(this, e));
    } catch (err) {
      const message = undeliveredKind(e);
      if (!message) throw err;
      this.bridge.metrics.skypeFailed(e, err);
      await this.undelivered.failed(message.meta, message.kind, err);
    }
  }

  /**
   * Handles one Matrix room event in the portal's room (call through {@link enqueue}). A failure
   * that stays ends in the "not bridged" notice. Never rejects.
   */
  async handleMatrixEvent(ev: MatrixRoomEvent): Promise<void> {
    try {
      await this.retryInPlace("a Matrix event", () => handleMatrixEvent(this, ev));
    } catch (e) {
      log.warn("a Matrix event could not be bridged", {
        room: ev.room_id,
        event: ev.event_id,
        error: errorText(e),
      });
      const target = { roomId: ev.room_id, eventId: ev.event_id, sender: ev.sender };
      await this.bridge.notices.notBridged(target, subjectOf(ev) ?? "message", failureReason(e));
    }
  }

  /** The user's typing state in the room (from an `m.typing` ephemeral event). */
  handleMatrixTyping(typingUserIds: readonly unknown[]): void {
    handleMatrixTyping(this, typingUserIds);
  }

  /**
   * The portal's room, created if missing. With `meta`, the sender's `IM-Display-Name` is noted
   * first, so a DM created for a stranger is named after them at once.
   */
  async ensureRoom(meta?: MessageMeta): Promise<string> {
    const { portals, puppets } = this.bridge;
    if (meta && !meta.fromMe && !this.user.isSelf(meta.sender))
      puppets.noteName(meta.sender, meta.displayName);
    try {
      // A first link's history goes into a room the user joins only afterwards (history.ts).
      const opts = { forHistory: isHistory(meta) };
      if (this.kind === "group") return await portals.ensureGroup(this.receiver, this.thread, opts);
      return await portals.ensureDm(this.receiver, this.id, opts);
    } catch (e) {
      if (isTransient(e)) throw e;
      throw new PortalError(PortalErrorCode.NoRoom, "the portal room could not be created", { cause: e });
    }
  }

  /**
   * The puppet that speaks for `meta`'s sender in `roomId`, joined: the contact's puppet, or for
   * the user's own messages from another endpoint, their own puppet with its per-room name.
   */
  async speaker(meta: MessageMeta, roomId: string): Promise<Speaker> {
    const { puppets, members } = this.bridge;
    const user = this.user;
    if (meta.fromMe || user.isSelf(meta.sender)) {
      // Double puppeting: the user's real account speaks (joined first). Not for a first link's
      // history: the user joins that room only after it (history.ts).
      // Nor in an encrypted portal: the bridge has no device of the user's to encrypt with, and a
      // plaintext event there would leak what the room keeps encrypted.
      const encrypted = this.row?.encrypted === true;
      if (!isHistory(meta) && !encrypted && this.bridge.doublePuppets.enabled(user.mxid)) {
        try {
          await members.ensureJoined(roomId, user.mxid);
          return { ...(await this.realUser()), self: true, double: true };
        } catch (e) {
          // A token the homeserver no longer takes: forgotten, and the user's puppet speaks instead.
          // Another refusal to join (banned, a secret whose namespace misses the user): the puppet
          // speaks this time. A homeserver that is away is waited for as for any send.
          const { status } = matrixErrorInfo(e);
          if (isRefusedCredential(e)) this.bridge.doublePuppets.refused(user.mxid);
          else if (status === undefined || status >= 500 || status === 429) throw e;
          else
            log.warn("the user's real account could not join; their puppet speaks", {
              room: roomId,
              error: errorText(e),
            });
        }
      }
      const puppet = await puppets.selfPuppet(user);
      if (!members.isKnownJoined(roomId, puppet.mxid)) {
        await members.ensureJoined(roomId, puppet.mxid, { displayname: puppets.selfRoomName(user) });
        await members.addServiceMember(roomId, puppet.mxid).catch(() => undefined);
      }
      return { ...puppet, self: true };
    }
    const hint = meta.displayName === undefined ? {} : { displayName: meta.displayName };
    const puppet = await puppets.ensure(meta.sender, hint);
    await members.ensureJoined(roomId, puppet.mxid);
    return { ...puppet, self: false };
  }

  /**
   * The puppet that sent a bridged Skype message: the contact's, or for the user's own the one that
   * sent `original` (their real account with double puppeting, else their own puppet).
   */
  async puppetOf(sender: string, original?: { roomId: string; eventId: string }): Promise<PuppetInfo> {
    const { puppets, doublePuppets, matrix, botUserId } = this.bridge;
    if (!this.user.isSelf(sender)) return puppets.ensure(sender);
    if (!doublePuppets.enabled(this.receiver)) return puppets.selfPuppet(this.user);
    // An edit or delete must come from whoever sent the original: a message bridged before double
    // puppeting was on is the "(you, on Skype)" puppet's.
    if (original) {
      const by = await matrix.eventSender(botUserId, original.roomId, original.eventId);
      if (by !== undefined && by !== this.receiver) return puppets.selfPuppet(this.user);
    }
    return this.realUser();
  }

  /** The user's real account as a speaker (double puppeting), under their own person id. */
  private async realUser(): Promise<PuppetInfo> {
    const self = await this.bridge.puppets.selfPuppet(this.user);
    return { personId: self.personId, mxid: this.receiver, displayName: this.user.displayName };
  }

  /** The deterministic txn id of one Matrix event made from a Skype event. */
  txnFor(kind: string, meta: MessageMeta, part = 0): string {
    const skypeKey =
      meta.messageId !== undefined ? `m${meta.messageId}` : `c${meta.sender}:${meta.clientMessageId ?? ""}`;
    return txnIdFor(kind, this.receiver, meta.conversation, skypeKey, String(part));
  }

  /**
   * True when this Skype event was already bridged (by Message-ID or Client-Message-ID), or is the
   * user's own Matrix message still in the outbox. `ignoreClientId` skips the Client-Message-ID check
   * (edits may repeat the original's).
   */
  alreadyBridged(meta: MessageMeta, ignoreClientId?: string): boolean {
    const { store } = this.bridge;
    const { messages } = store;
    const receiver = this.receiver;
    if (meta.messageId !== undefined && messages.getBySkypeId(receiver, meta.conversation, meta.messageId))
      return true;
    const cmid = meta.clientMessageId;
    if (cmid === undefined || cmid === ignoreClientId) return false;
    const row = messages.getByClientId(receiver, meta.conversation, cmid);
    if (row) {
      if (row.skypeMessageId === null && meta.messageId !== undefined) {
        messages.setSkypeMessageId(row.id, meta.messageId);
      }
      return true;
    }
    return meta.fromMe && isSentFromMatrix(store, receiver, meta.conversation, cmid);
  }

  /**
   * Persists the catch-up position once the event is handled — unless an earlier message of the
   * conversation was neither bridged nor reported: then the cursor waits for that (undelivered.ts).
   */
  advanceCursor(meta: MessageMeta): void {
    const cursor = meta.cursor;
    if (!cursor || this.undelivered.holds(cursor)) return;
    this.bridge.store.cursors.advance(this.receiver, cursor.conversation, cursor.messageId);
  }

  /**
   * Sends as `userId` with retries; a 403 (membership lost) makes the sender re-join once and try
   * again. The txn id makes every retry idempotent.
   */
  async sendAs(
    userId: string,
    roomId: string,
    content: Record<string, unknown>,
    txnId: string,
    ts?: number,
    rejoin?: { displayname?: string },
  ): Promise<string> {
    const { matrix, members, retry } = this.bridge;
    // A send cut off on the wire may have been stored. Synapse remembers an appservice user's txn ids
    // only in memory (a device-less puppet has no persisted ones), so after a cut — a Synapse restart
    // above all — the same txn id would post the message twice: look for it before sending again.
    let uncertain = false;
    const sendOnce = async (): Promise<string> => {
      if (uncertain && ts !== undefined) {
        const sent = await matrix.findRecentEvent(
          userId,
          roomId,
          (e) => e.origin_server_ts === Math.floor(ts) && sameBody(e.content, content),
        );
        if (sent !== undefined) return sent;
      }
      try {
        return await matrix.sendEvent(userId, roomId, "m.room.message", content, txnId, ts);
      } catch (e) {
        if (matrixErrorInfo(e).status === undefined) uncertain = true;
        throw e;
      }
    };
    const send = (): Promise<string> => withRetry(retry, sendOnce);
    try {
      return await send();
    } catch (e) {
      if (userId === this.receiver && isRefusedCredential(e)) {
        // Double puppeting refused mid-way (the token was logged out): the user's puppet says it.
        this.bridge.doublePuppets.refused(userId);
        const puppet = await this.bridge.puppets.selfPuppet(this.user);
        const displayname = this.bridge.puppets.selfRoomName(this.user);
        await members.ensureJoined(roomId, puppet.mxid, { displayname });
        return this.sendAs(puppet.mxid, roomId, content, txnId, ts, { displayname });
      }
      if (!isForbidden(e)) throw e;
      members.forget(roomId, userId);
      // The user's real account (double puppeting) keeps its own name: no per-room puppet name.
      await members.ensureJoined(roomId, userId, userId === this.receiver ? {} : (rejoin ?? {}));
      return send();
    }
  }

  /** Stops showing `mxid` typing (best effort). */
  async clearTyping(roomId: string, mxid: string): Promise<void> {
    if (!this.typingPuppets.delete(mxid)) return;
    await this.bridge.matrix.setTyping(mxid, roomId, false, 0).catch(() => undefined);
  }

  /** Mention pills: the user's own identities → the real user; others → their puppet. */
  mentionResolver(): (mri: string) => MentionTarget | undefined {
    const { store, puppets } = this.bridge;
    const user = this.user;
    return (mri) => {
      if (user.isSelf(mri)) return { mxid: user.mxid, displayName: user.displayName };
      const person = store.persons.getByIdentity(mri);
      if (!person) return undefined;
      return { mxid: puppets.mxidOf(person.id), displayName: puppets.nameOf(person) };
    };
  }
}

/** True when a stored event's content carries the same message (type, body and formatting). */
function sameBody(stored: unknown, sent: Record<string, unknown>): boolean {
  if (stored === null || typeof stored !== "object") return false;
  const s = stored as Record<string, unknown>;
  return s.msgtype === sent.msgtype && s.body === sent.body && s.formatted_body === sent.formatted_body;
}
