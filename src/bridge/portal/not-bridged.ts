// SPDX-License-Identifier: Apache-2.0
/**
 * "⚠️ Your … was not bridged: …" notices (matrix-conventions.md §5): an `m.notice` replying to the
 * event that could not reach Skype, mentioning its sender, posted by the bot (or, in a DM the bot is
 * not in, by the contact's puppet) with a transaction id derived from the event, so a replay after
 * a crash does not post it twice.
 */
import { MsnpError, SkypeError } from "../../skype/errors.js";
import { StoreError, StoreErrorCode } from "../../store/errors.js";
import { errorText, Logger } from "../../util/logger.js";
import type { BridgeEnv } from "../bridge.js";
import { matrixTxnIdFor } from "../matrix/txn-ids.js";

const log = new Logger("bridge.m2s.notices");

/** The event a notice is about. */
export interface NoticeTarget {
  readonly roomId: string;
  readonly eventId: string;
  /** The Matrix user who sent it (mentioned in the notice). */
  readonly sender: string;
}

/** The notice text: "⚠️ Your <subject> was not bridged: <reason>". */
export function notBridgedText(subject: string, reason: string): string {
  return `⚠️ Your ${subject} was not bridged: ${reason}`;
}

/** The content of a notice replying to `target`. */
export function noticeContent(target: NoticeTarget, body: string): Record<string, unknown> {
  return {
    msgtype: "m.notice",
    body,
    "m.relates_to": { "m.in_reply_to": { event_id: target.eventId } },
    "m.mentions": { user_ids: [target.sender] },
  };
}

/** Why a send failed, in words for the user (never raw protocol text). */
export function failureReason(e: unknown): string {
  if (e instanceof MsnpError) {
    if (e.msnpCode === 217) return "Skype does not know the recipient (error 217).";
    if (e.msnpCode === 201) return "Skype did not allow it (error 201).";
    if (e.msnpCode >= 500) return `Skype had a server error (error ${e.msnpCode}).`;
    return `Skype refused it (error ${e.msnpCode}).`;
  }
  if (e instanceof SkypeError) return `Skype could not take it (${e.code}).`;
  if (e instanceof StoreError) {
    if (e.code === StoreErrorCode.Busy)
      return "the bridge's database was busy for too long. Please send it again.";
    return "the bridge could not store it in its database.";
  }
  return "the bridge hit an internal error.";
}

/** Subjects of events that are not room messages: event type → subject. */
const SUBJECTS: ReadonlyMap<string, string> = new Map([
  ["m.room.redaction", "redaction"],
  ["m.reaction", "reaction"],
  ["m.sticker", "sticker"],
]);

/**
 * What the user would call a Matrix event in a notice ("message", "edit", "redaction", …);
 * undefined for events nobody sends to be bridged (membership, most state).
 */
export function subjectOf(ev: {
  type?: unknown;
  state_key?: unknown;
  content?: unknown;
}): string | undefined {
  const content = (ev.content ?? {}) as { "m.relates_to"?: { rel_type?: unknown } };
  if (ev.type === "m.room.message")
    return content["m.relates_to"]?.rel_type === "m.replace" ? "edit" : "message";
  if ((ev.type === "m.room.name" || ev.type === "m.room.topic") && ev.state_key === "")
    return ev.type === "m.room.name" ? "name change" : "topic change";
  return typeof ev.type === "string" ? SUBJECTS.get(ev.type) : undefined;
}

/** Posts notices into portal rooms. */
export class RoomNotices {
  /**
   * @param fallbackSender the puppet to post as when the bot cannot (a DM the user started by
   *   inviting a puppet has no bot); undefined when there is none.
   */
  constructor(
    private readonly ctx: Pick<BridgeEnv, "intent"> & Partial<Pick<BridgeEnv, "notifyUser">>,
    private readonly fallbackSender: (roomId: string) => string | undefined = () => undefined,
  ) {}

  /**
   * Tells the sender of `target` that it was not bridged: in the room, else in their management
   * room. Never throws: a notice that cannot be posted anywhere is logged. `purpose` distinguishes
   * several notices about one event.
   */
  async notBridged(target: NoticeTarget, subject: string, reason: string, purpose = "fail"): Promise<void> {
    const content = noticeContent(target, notBridgedText(subject, reason));
    const txnId = matrixTxnIdFor(purpose, target.eventId);
    const senders: (string | undefined)[] = [undefined];
    const puppet = this.safeFallback(target.roomId);
    if (puppet !== undefined) senders.push(puppet);
    let lastError: unknown;
    for (const userId of senders) {
      try {
        await this.send(userId, target.roomId, content, txnId);
        return;
      } catch (e) {
        lastError = e;
      }
    }
    log.warn("could not post a not-bridged notice; telling the sender in their management room", {
      room: target.roomId,
      event: target.eventId,
      error: errorText(lastError),
    });
    // The room takes no notice from us: the management room (if the sender has one) still does.
    const link = `https://matrix.to/#/${encodeURIComponent(target.roomId)}/${encodeURIComponent(target.eventId)}`;
    await this.ctx
      .notifyUser?.(target.sender, `${notBridgedText(subject, reason)} (${link})`)
      .catch((e: unknown) => log.warn("could not tell the sender either", { error: errorText(e) }));
  }

  private safeFallback(roomId: string): string | undefined {
    try {
      return this.fallbackSender(roomId);
    } catch {
      return undefined;
    }
  }

  private async send(
    userId: string | undefined,
    roomId: string,
    content: Record<string, unknown>,
    txnId: string,
  ): Promise<void> {
    const intent = this.ctx.intent(userId);
    await intent.join(roomId);
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${encodeURIComponent(txnId)}`;
    await intent.matrixClient.doRequest("PUT", path, null, content);
  }
}
