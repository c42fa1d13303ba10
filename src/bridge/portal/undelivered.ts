// SPDX-License-Identifier: Apache-2.0
/**
 * Skype messages that could not be bridged. Nothing is dropped in silence: the user is told in the
 * portal room (as the bot, or in a DM the bot is not in, as the contact's puppet), or — when there
 * is no room yet, or it takes no notices — in their management room, who sent what kind of message,
 * when, and why in plain words (never the content, protocol text or secrets).
 *
 * The catch-up cursor never passes a message that neither arrived nor was reported: while one is
 * unreported, later messages of its conversation are still bridged but the cursor stays, so a
 * restart fetches it again. Each later event of the portal first tries to report it once more.
 *
 * Once reported, an undelivered message lets the cursor move on. Keeping it behind the cursor
 * would retry it at every restart, and a message that can never be bridged (too large, refused,
 * a bug in a converter) would then block its conversation's cursor for ever — every restart would
 * fetch and fail it again, and report it again. The user knows about it, and can read it on Skype.
 */
import type { MessageCursor, MessageMeta } from "../../skype/msnp/types.js";
import { compareMessageIds } from "../../util/message-ids.js";
import { errorText, Logger } from "../../util/logger.js";
import { fallbackName } from "../ghosts/puppets.js";
import { withRetry } from "../matrix/errors.js";
import type { Portal } from "./portal.js";
import {
  PortalError,
  PortalErrorCode,
  undeliveredReason,
  undeliveredText,
  type UndeliveredKind,
} from "./skype-failures.js";

const log = new Logger("bridge.portal.undelivered");

/** A message not delivered and not yet reported. */
interface Unreported {
  readonly meta: MessageMeta;
  readonly kind: UndeliveredKind;
  readonly reason: string;
}

/** The undelivered Skype messages of one portal, and the hold they put on its cursors. */
export class UndeliveredMessages {
  private readonly unreported: Unreported[] = [];
  /**
   * Messages that reached Matrix but could not be recorded: nobody needs telling, but the cursor
   * stays before them for this process's life, so a restart runs them again (the same txn id gives
   * the same event) and records them.
   */
  private readonly unrecorded: MessageCursor[] = [];
  /** Per wire conversation: the furthest Message-ID handled while an earlier one was unreported. */
  private readonly deferred = new Map<string, string>();

  constructor(private readonly p: Portal) {}

  /**
   * True when the cursor must not move to `cursor` (an earlier message of its conversation is
   * unreported); the position is remembered and reached once that one is reported.
   */
  holds(cursor: MessageCursor): boolean {
    const before = (c: MessageCursor | undefined): boolean =>
      c?.conversation === cursor.conversation && compareMessageIds(c.messageId, cursor.messageId) <= 0;
    const held = this.unreported.some((u) => before(u.meta.cursor)) || this.unrecorded.some(before);
    if (!held) return false;
    const prev = this.deferred.get(cursor.conversation);
    if (prev === undefined || compareMessageIds(cursor.messageId, prev) > 0)
      this.deferred.set(cursor.conversation, cursor.messageId);
    return true;
  }

  /** Tells the user about `meta`, which failed with `error`; holds the cursor if nobody could be told. */
  async failed(meta: MessageMeta, kind: UndeliveredKind, error: unknown): Promise<void> {
    if (error instanceof PortalError && error.code === PortalErrorCode.Unrecorded) {
      log.warn("a Skype event reached Matrix but could not be recorded; it is re-run after a restart", {
        user: this.p.receiver,
        conversation: meta.conversation,
        error: errorText(error.cause),
      });
      if (meta.cursor) this.unrecorded.push(meta.cursor);
      return;
    }
    log.warn("a Skype event could not be bridged", {
      user: this.p.receiver,
      conversation: meta.conversation,
      kind,
      error: errorText(error),
    });
    const entry: Unreported = { meta, kind, reason: undeliveredReason(error) };
    if (await this.tell(entry)) this.p.advanceCursor(meta);
    else this.unreported.push(entry);
  }

  /** Tries again to report what could not be reported; releases the cursors of those told. */
  async retry(): Promise<void> {
    while (this.unreported.length > 0) {
      const entry = this.unreported[0]!;
      if (!(await this.tell(entry))) return;
      this.unreported.shift();
      const cursor = entry.meta.cursor;
      if (!cursor) continue;
      // Both steps go through holds(): a later message still unreported keeps holding from there.
      const further = this.deferred.get(cursor.conversation);
      this.deferred.delete(cursor.conversation);
      this.p.advanceCursor(entry.meta);
      if (further !== undefined)
        this.p.advanceCursor({ ...entry.meta, cursor: { ...cursor, messageId: further } });
    }
  }

  /** Posts the report in the room, else in the management room. True once someone was told. */
  private async tell(u: Unreported): Promise<boolean> {
    const { bridge, receiver } = this.p;
    const roomId = this.safe(() => this.p.roomId);
    if (roomId !== undefined) {
      const body = this.text(u, false);
      const content = { msgtype: "m.notice", body, "m.mentions": { user_ids: [receiver] } };
      const txnId = this.p.txnFor("undelivered", u.meta);
      const puppet = this.safe(() => bridge.portals.dmPuppetOf(roomId));
      for (const sender of puppet === undefined ? [bridge.botUserId] : [bridge.botUserId, puppet]) {
        try {
          await withRetry(bridge.retry, () =>
            bridge.matrix.sendEvent(sender, roomId, "m.room.message", content, txnId),
          );
          return true;
        } catch (e) {
          log.debug("could not post an undelivered-message notice", { room: roomId, error: errorText(e) });
        }
      }
    }
    if (this.safe(() => bridge.store.users.get(receiver)?.managementRoomId) == null) return false;
    try {
      await bridge.env.notifyUser(receiver, this.text(u, true));
      return true;
    } catch (e) {
      log.warn("could not tell the user about an undelivered message", {
        user: receiver,
        error: errorText(e),
      });
      return false;
    }
  }

  /** The report; `outside` (the management room) also says which chat. */
  private text(u: Unreported, outside: boolean): string {
    const where = outside ? this.where(u.meta) : "";
    return undeliveredText(u.kind, this.who(u.meta), u.meta, u.reason, this.p.bridge.now(), where);
  }

  private isSelf(meta: MessageMeta): boolean {
    return meta.fromMe || this.safe(() => this.p.user.isSelf(meta.sender)) === true;
  }

  private who(meta: MessageMeta): string {
    if (this.isSelf(meta)) return "you (from another Skype device)";
    const { store, puppets } = this.p.bridge;
    const person = this.safe(() => store.persons.getByIdentity(meta.sender));
    if (person) return puppets.nameOf(person);
    return meta.displayName?.trim() || fallbackName(meta.sender);
  }

  /** Which chat, for a report outside its room (a DM with someone else names them already). */
  private where(meta: MessageMeta): string {
    const { p } = this;
    if (p.kind === "group") {
      const topic = p.thread.topic?.trim();
      return topic ? ` in the Skype group "${topic}"` : " in a Skype group";
    }
    if (!this.isSelf(meta)) return "";
    const person = this.safe(() => p.bridge.store.persons.get(p.id));
    return ` in your chat with ${person ? p.bridge.puppets.nameOf(person) : fallbackName(p.id)}`;
  }

  /** Lookups for the report must not stop it (the database may be what failed). */
  private safe<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch {
      return undefined;
    }
  }
}
