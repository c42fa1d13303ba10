// SPDX-License-Identifier: Apache-2.0
/**
 * Read state, the consumption horizon (PROFILE §7.5 [A]; REFERENCE §16 "Read state"):
 * - `PUT n MSGR\CONSUMPTIONHORIZON` with
 *   `<consumptionhorizon><id>{conversation}</id><horizon>{Message-ID};{now ms};{Client-Message-ID or Message-ID}</horizon></consumptionhorizon>`;
 * - `NFY 0 MSGR\CONSUMPTIONHORIZON` with the same document plus `<user>{reader}</user>`;
 * - `<consumptionhorizon user="{identity}">{horizon}</consumptionhorizon>` inside each `<conversation>` of
 *   `GET MSGR\RECENTCONVERSATIONS`.
 * Readers are liberal: any part of a horizon may be missing or empty, and a body may come with a
 * multi-part header block before the document.
 */
import { parseMultipart } from "./body.js";
import { bareMri, isMessageId, type SelfIdentity } from "./identity.js";
import type { RecentConversation } from "./history.js";
import { escapeXml, findFirst, childText, parseXml } from "../xml.js";

/** One horizon value: how far a member has read. */
export interface ConsumptionHorizon {
  /** The newest message read (server `Message-ID`), when the value names one. */
  messageId?: string;
  /** When the horizon was set (ms since the epoch), when given. */
  modifiedMs?: number;
  /** The third part: the message's `Client-Message-ID` (or its `Message-ID` again). */
  clientMessageId?: string;
  /** The value as sent. */
  raw: string;
}

/** A member's horizon in a conversation, from a notification or the recent-conversations list. */
export interface HorizonEvent {
  /** The conversation as this client keys it: the other party's MRI for a 1:1, else the thread id. */
  conversation: string;
  /** The reader's identity (bare MRI). */
  user: string;
  /** True when the reader is the user (another of their endpoints). */
  fromMe: boolean;
  horizon: ConsumptionHorizon;
  /** `live`: a notification; `recent`: read from `RECENTCONVERSATIONS` at login. */
  source: "live" | "recent";
}

/** The horizon value `{Message-ID};{now ms};{Client-Message-ID or Message-ID}`. */
export function horizonValue(messageId: string, nowMs: number, clientMessageId?: string): string {
  const third =
    clientMessageId !== undefined && /^\d{1,30}$/.test(clientMessageId) ? clientMessageId : messageId;
  return `${messageId};${Math.max(0, Math.floor(nowMs))};${third}`;
}

/** The `PUT MSGR\CONSUMPTIONHORIZON` body. Values are XML-escaped. */
export function consumptionHorizonXml(conversation: string, horizon: string): string {
  return (
    `<consumptionhorizon><id>${escapeXml(conversation)}</id>` +
    `<horizon>${escapeXml(horizon)}</horizon></consumptionhorizon>`
  );
}

/** Parses a horizon value; never throws. Parts that are missing, empty, `0` or not numbers are left out. */
export function parseHorizon(value: string): ConsumptionHorizon {
  const raw = typeof value === "string" ? value.trim() : "";
  const [first, second, third] = raw.split(";").map((p) => p.trim());
  const id = (s: string | undefined): string | undefined =>
    isMessageId(s) && !/^0+$/.test(s) ? s : undefined;
  const out: ConsumptionHorizon = { raw };
  const messageId = id(first);
  if (messageId !== undefined) out.messageId = messageId;
  const ms = second !== undefined && /^\d{1,16}$/.test(second) ? Number(second) : NaN;
  if (Number.isSafeInteger(ms) && ms > 0) out.modifiedMs = ms;
  const clientMessageId = id(third);
  if (clientMessageId !== undefined) out.clientMessageId = clientMessageId;
  return out;
}

/** The XML document of a body that may carry a multi-part header block first. */
function documentText(body: Buffer): string {
  const text = body.toString("utf8");
  if (text.trimStart().startsWith("<")) return text;
  return parseMultipart(body).body.toString("utf8");
}

/** The conversation key of a horizon: a 1:1 named by the user's own identity is the reader's. */
function conversationKey(id: string, reader: string, self: SelfIdentity): string {
  return self.isMe(id) && !self.isMe(reader) ? reader : id;
}

/**
 * Parses the body of `NFY MSGR\CONSUMPTIONHORIZON`; undefined when it lacks a conversation or a
 * reader. @throws ProtocolParseError when the document is not XML (the caller logs and drops it).
 */
export function parseHorizonNotification(body: Buffer, self: SelfIdentity): HorizonEvent | undefined {
  const root = findFirst(parseXml(documentText(body)), "consumptionhorizon");
  const id = bareMri(childText(root, "id")?.trim() ?? "");
  const user = bareMri(childText(root, "user")?.trim() ?? "");
  if (!id || !user) return undefined;
  return {
    conversation: conversationKey(id, user, self),
    user,
    fromMe: self.isMe(user),
    horizon: parseHorizon(childText(root, "horizon") ?? ""),
    source: "live",
  };
}

/** The horizons RECENTCONVERSATIONS listed for one conversation, as events. Never throws. */
export function horizonsFromRecent(recent: RecentConversation, self: SelfIdentity): HorizonEvent[] {
  const out: HorizonEvent[] = [];
  for (const h of recent.horizons ?? []) {
    const user = bareMri(h.user);
    const id = bareMri(recent.id);
    if (!user || !id) continue;
    out.push({
      conversation: conversationKey(id, user, self),
      user,
      fromMe: self.isMe(user),
      horizon: parseHorizon(h.value),
      source: "recent",
    });
  }
  return out;
}
