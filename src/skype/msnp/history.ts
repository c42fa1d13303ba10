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

/** A conversation listed by RECENTCONVERSATIONS, with the newest Message-ID it showed (if any). */
export interface RecentConversation {
  id: string;
  lastMessageId?: string;
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
    out.push(last ? { id, lastMessageId: last } : { id });
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
