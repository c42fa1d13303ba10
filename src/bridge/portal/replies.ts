// SPDX-License-Identifier: Apache-2.0
/**
 * Replies both ways (PROFILE §7.4; matrix-conventions: rich replies without fallback, spec v1.13):
 * - Skype → Matrix: the first quote of a RichText body whose `messageid` names a message bridged in
 *   this room becomes `m.relates_to.m.in_reply_to` of the event, and that quote leaves the body.
 *   A quote of a message the bridge does not know stays in the body as a blockquote.
 * - Matrix → Skype: a reply (`m.in_reply_to`) to a bridged event becomes a §7.4 quote of the Skype
 *   message before the reply's text (the Matrix reply fallback is already gone: matrixToSkype drops
 *   `<mx-reply>` and the `> <@…>` lines). A reply to an event Skype never got is sent as plain text.
 */
import { parseQuotes, quoteXml } from "../../skype/msnp/quotes.js";
import { escapeXml } from "../../skype/xml.js";
import type { MessageEvent } from "../../sessions/types.js";
import type { MessageRow } from "../../store/types.js";
import { errorText, Logger } from "../../util/logger.js";
import { matrixToSkype, type MatrixMessageContent } from "../convert/index.js";
import type { Portal } from "./portal.js";

const log = new Logger("bridge.portal.replies");

/** The Matrix event a Skype message replies to, and the quote that named it. */
export interface SkypeReply {
  /** The bridged event the quote names. */
  eventId: string;
  /** The quote's `messageid` (left out of the body: {@link SkypeToMatrixOptions.replyQuoteMessageId}). */
  quoteMessageId: string;
}

/** The message-map row of Skype message `messageId` in this portal's room, if it was bridged. */
function bridgedRow(p: Portal, conversations: readonly string[], messageId: string): MessageRow | undefined {
  const roomId = p.roomId;
  for (const conversation of conversations) {
    const row = p.bridge.store.messages.getBySkypeId(p.receiver, conversation, messageId);
    // Edits carry a Message-ID of their own; a reply goes to the message, never to an edit event.
    if (row && row.roomId === roomId && row.editOf === null && !row.deleted) return row;
  }
  return undefined;
}

/**
 * The reply relation of a received RichText message: its first quote whose `messageid` was bridged
 * in this room. Undefined (logged at debug) when no quote names a known message. Never throws.
 */
export function skypeReplyTarget(p: Portal, e: MessageEvent): SkypeReply | undefined {
  if (e.format !== "richtext") return undefined;
  try {
    const quotes = parseQuotes(e.body);
    for (const q of quotes) {
      if (q.messageId === undefined) continue;
      // Message-IDs are per conversation: ours first, then the one the quoting client named (a
      // person writing from their other identity), unless that is the user's own identity.
      const named = q.conversation !== undefined && !p.user.isSelf(q.conversation) ? [q.conversation] : [];
      const row = bridgedRow(p, [e.conversation, ...named], q.messageId);
      if (row) return { eventId: row.eventId, quoteMessageId: q.messageId };
      log.debug("a quote names a message the bridge does not know; kept as text", {
        user: p.receiver,
        conversation: e.conversation,
        quoted: q.messageId,
      });
    }
  } catch (err) {
    log.debug("could not read the quotes of a message; kept as text", { error: errorText(err) });
  }
  return undefined;
}

/** The `m.in_reply_to` event id of Matrix content, if any. */
export function inReplyTo(content: MatrixMessageContent): string | undefined {
  const rel = content["m.relates_to"];
  if (rel === null || typeof rel !== "object") return undefined;
  const reply = (rel as Record<string, unknown>)["m.in_reply_to"];
  if (reply === null || typeof reply !== "object") return undefined;
  const id = (reply as Record<string, unknown>)["event_id"];
  return typeof id === "string" && id.startsWith("$") ? id : undefined;
}

/** The quoted message's sender name as Skype shows it. */
function authorName(p: Portal, row: MessageRow, author: string): string {
  if (row.direction === "to_skype" || p.user.isSelf(author)) return p.user.displayName || author.slice(2);
  const person = p.bridge.store.persons.getByIdentity(author);
  return person?.displayName?.trim() || author.replace(/^\d+:(live:)?/, "");
}

/** The quoted message's text as Skype rich text, read back from Matrix ("" when it cannot be). */
async function quotedRichText(p: Portal, row: MessageRow): Promise<string> {
  try {
    // A DM room may not have the bot in it; its puppet is always there.
    const reader = p.bridge.portals.dmPuppetOf(row.roomId) ?? p.bridge.botUserId;
    const ev = await p.bridge.matrix.getEvent(reader, row.roomId, row.eventId);
    const content = ev?.["content"];
    if (content === null || typeof content !== "object") return "";
    const out = matrixToSkype(content as MatrixMessageContent);
    return out.type === "richtext" ? out.body : escapeXml(out.body);
  } catch (err) {
    log.debug("could not read the replied-to event; quoting without its text", {
      room: row.roomId,
      error: errorText(err),
    });
    return "";
  }
}

/**
 * The §7.4 quote to put before a Matrix reply's text on Skype, or undefined when the replied-to
 * event is not a Skype message of this portal (the reply then goes as it is). Network I/O (reads
 * the quoted event from the homeserver for its text); never throws.
 */
export async function skypeQuoteFor(p: Portal, content: MatrixMessageContent): Promise<string | undefined> {
  const target = inReplyTo(content);
  if (target === undefined) return undefined;
  const row = p.bridge.store.messages.getByEventId(target);
  if (!row || row.receiver !== p.receiver || row.roomId !== p.roomId || row.deleted) {
    log.debug("a reply to an event Skype never got; sent without a quote", { event: target });
    return undefined;
  }
  const author = row.direction === "to_skype" ? (mySkypeIdentity(p) ?? row.sender) : row.sender;
  return quoteXml({
    author,
    authorName: authorName(p, row, author),
    timestampMs: row.sentTs,
    conversation: p.skypeConversation,
    // A message the user sent from Matrix has a Message-ID only once Skype showed it back; until
    // then the quote goes without one (receivers show its text).
    messageId: row.skypeMessageId ?? undefined,
    richText: await quotedRichText(p, row),
  });
}

/**
 * The quote for an edit of Matrix event `eventId`: the one its reply relation gives, if it is a reply
 * to a bridged event (the original is read back from the homeserver). Never throws.
 */
export async function skypeQuoteForEdit(p: Portal, eventId: string): Promise<string | undefined> {
  const roomId = p.roomId;
  if (roomId === undefined) return undefined;
  try {
    const reader = p.bridge.portals.dmPuppetOf(roomId) ?? p.bridge.botUserId;
    const original = await p.bridge.matrix.getEvent(reader, roomId, eventId);
    const content = original?.["content"];
    if (content === null || typeof content !== "object") return undefined;
    return await skypeQuoteFor(p, content as MatrixMessageContent);
  } catch (err) {
    log.debug("could not read the edited event; the edit goes without a quote", { error: errorText(err) });
    return undefined;
  }
}

/** The user's `8:` identity (the one contacts know), else any of theirs. */
function mySkypeIdentity(p: Portal): string | undefined {
  const ids = p.user.identities;
  return ids.find((id) => id.startsWith("8:")) ?? ids[0];
}

/** A converted reply body with the quote in front: always rich text. */
export function withQuote(quote: string, out: { kind: "text" | "richtext"; body: string }): string {
  return quote + (out.kind === "richtext" ? out.body : escapeXml(out.body));
}
