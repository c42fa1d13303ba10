// SPDX-License-Identifier: Apache-2.0
/**
 * History replies: `GET MSGR\RECENTCONVERSATIONS` and `GET MSGR\MESSAGESBYCONVERSATION`
 * (PROFILE §5 "History", REFERENCE §5.2): newest first, `hasmore`, opaque `messagessyncstate`.
 */
import { bareMri, compareIds, epidOf, isMessageId, type SelfIdentity } from "./identity.js";
import type { RawMessage } from "./messages.js";
import {
  child,
  childText,
  childrenNamed,
  decodeXmlEntities as decodeEntities,
  findAll,
  findFirst,
  parseXml,
  type XmlElement,
} from "../xml.js";

/** A member's consumption horizon as RECENTCONVERSATIONS lists it (PROFILE §7.5). */
export interface RecentHorizon {
  /** The reader's identity as sent. */
  user: string;
  /** The horizon value as sent (`{Message-ID};{ms};{Client-Message-ID}`, parts may be missing). */
  value: string;
}

/** A conversation listed by RECENTCONVERSATIONS, with the newest Message-ID it showed (if any). */
export interface RecentConversation {
  id: string;
  lastMessageId?: string;
  /** The members' horizons, when the server listed any. */
  horizons?: RecentHorizon[];
}

/** One page of MESSAGESBYCONVERSATION. */
export interface HistoryPage {
  messages: RawMessage[];
  hasMore: boolean;
  syncState?: string;
}

/**
 * The text of `<content>`: escaped text is decoded once; raw markup (a server that did not
 * escape rich text) is kept as it is; CDATA is unwrapped.
 */
export function contentText(el: XmlElement | undefined): string {
  if (!el) return "";
  const raw = el.raw;
  const cdata = /^\s*<!\[CDATA\[([\s\S]*)\]\]>\s*$/.exec(raw);
  if (cdata) return cdata[1]!;
  return raw.includes("<") ? raw : decodeEntities(raw);
}

/** Parses a RECENTCONVERSATIONS reply. @throws ProtocolParseError on malformed XML. */
export function parseRecentConversations(xml: string): RecentConversation[] {
  const doc = parseXml(xml);
  const out: RecentConversation[] = [];
  for (const conv of findAll(doc, "conversation")) {
    const id = childText(conv, "id");
    if (!id) continue;
    let last: string | undefined;
    for (const m of findAll(conv, "message")) {
      const mid = childText(m, "id");
      if (isMessageId(mid) && (last === undefined || compareIds(mid, last) > 0)) last = mid;
    }
    const entry: RecentConversation = last ? { id, lastMessageId: last } : { id };
    const horizons = recentHorizons(conv);
    if (horizons.length > 0) entry.horizons = horizons;
    out.push(entry);
  }
  return out;
}

/** `<consumptionhorizon user="…">value</consumptionhorizon>` (or `<user>`/`<horizon>` children). */
function recentHorizons(conv: XmlElement): RecentHorizon[] {
  const out: RecentHorizon[] = [];
  for (const el of findAll(conv, "consumptionhorizon")) {
    const userAttr = Object.entries(el.attrs).find(([k]) => k.toLowerCase() === "user")?.[1];
    const user = (userAttr ?? childText(el, "user") ?? "").trim();
    const value = el.children.length > 0 ? (childText(el, "horizon") ?? "") : el.text;
    if (user !== "") out.push({ user, value: value.trim() });
  }
  return out;
}

function rawFromHistory(m: XmlElement, conversation: string, self: SelfIdentity): RawMessage | undefined {
  const fromFull = childText(m, "from") ?? "";
  const from = bareMri(fromFull.replace(/^.*\/contacts\//, ""));
  if (!from) return undefined;
  const id = childText(m, "id");
  const opt = (name: string): string | undefined => {
    const v = childText(m, name);
    return v === undefined || v === "" ? undefined : v;
  };
  const to = opt("to");
  return {
    conversation,
    from,
    fromEpid: epidOf(fromFull),
    to: to ? bareMri(to) : conversation,
    fromMe: self.isMe(from),
    messageType: opt("messagetype") ?? "Text",
    contentType: opt("contenttype"),
    content: contentText(child(m, "content")),
    messageId: isMessageId(id) ? id : undefined,
    clientMessageId: opt("clientmessageid"),
    arrivalTime: opt("originalarrivaltime"),
    displayName: childText(m, "imdisplayname"),
    editedId: opt("skypeeditedid"),
    emoteOffset: opt("skypeemoteoffset"),
  };
}

/**
 * Parses a MESSAGESBYCONVERSATION reply for `conversation` (the key asked for).
 * @throws ProtocolParseError on malformed XML.
 */
export function parseHistoryPage(xml: string, conversation: string, self: SelfIdentity): HistoryPage {
  const doc = parseXml(xml);
  const root = findFirst(doc, "messagesbyconversation-response") ?? doc.children[0];
  const messages = childrenNamed(child(root, "messages"), "message")
    .map((m) => rawFromHistory(m, conversation, self))
    .filter((m): m is RawMessage => m !== undefined);
  const hasMore = (childText(root, "hasmore") ?? "false").toLowerCase() === "true";
  const sync = child(root, "messagessyncstate");
  const page: HistoryPage = { messages, hasMore };
  if (sync && sync.text.trim()) page.syncState = sync.text.trim();
  return page;
}
