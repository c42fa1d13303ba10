// SPDX-License-Identifier: Apache-2.0
/**
 * Pure builders of the Matrix content the Skype → Matrix side sends besides plain messages: edits
 * (`m.replace`, matrix-conventions §4.4), notices for Skype messages the bridge cannot show, and
 * arrival times.
 */
import { escapeHtml, type MatrixTextContent } from "../convert/index.js";

/**
 * An edit of `originalEventId`: `* `-prefixed fallback, the full new content in `m.new_content`
 * (mentions included), and top-level `m.mentions: {}` so an edit never pings again.
 */
export function editContent(next: MatrixTextContent, originalEventId: string): Record<string, unknown> {
  const content: Record<string, unknown> = {
    msgtype: next.msgtype,
    body: `* ${next.body}`,
    "m.new_content": { ...next },
    "m.mentions": {},
    "m.relates_to": { rel_type: "m.replace", event_id: originalEventId },
  };
  if (next.formatted_body !== undefined) {
    content.format = "org.matrix.custom.html";
    content.formatted_body = `* ${next.formatted_body}`;
  }
  return content;
}

/**
 * The user edited, on another Skype endpoint, a message they had sent from Matrix. Their Matrix
 * event cannot be replaced by anyone else, so the new text is posted as a reply to it.
 */
export function foreignEditContent(
  next: MatrixTextContent,
  originalEventId: string,
): Record<string, unknown> {
  const content: Record<string, unknown> = {
    ...next,
    body: `(edited on Skype) ${next.body}`,
    "m.relates_to": { "m.in_reply_to": { event_id: originalEventId } },
  };
  if (next.formatted_body !== undefined) {
    content.formatted_body = `<em>(edited on Skype)</em> ${next.formatted_body}`;
  } else {
    content.format = "org.matrix.custom.html";
    content.formatted_body = `<em>(edited on Skype)</em> ${htmlText(next.body)}`;
  }
  return content;
}

function htmlText(text: string): string {
  return escapeHtml(text).replace(/\n/g, "<br>");
}

/** Readable names of Skype message types the bridge does not carry. */
const KIND_NAMES: ReadonlyArray<[RegExp, string]> = [
  [/^richtext\/uriobject$/i, "an image"],
  [/^richtext\/media_genericfile$/i, "a file"],
  [/^richtext\/files$/i, "a file"],
  [/^richtext\/media_video$/i, "a video"],
  [/^richtext\/media_audiomsg$/i, "a voice message"],
  [/^richtext\/media_card$/i, "a card"],
  [/^richtext\/contacts$/i, "a contact card"],
  [/^richtext\/location$/i, "a location"],
  [/^richtext\/media_/i, "a media message"],
  [/^event\/call$/i, "a call"],
  [/^nudge$/i, "a nudge"],
];

/** What a Skype message type is, in words ("a file", "a call", …; "a message" when unknown). */
export function describeSkypeType(messageType: string): string {
  for (const [re, name] of KIND_NAMES) if (re.test(messageType.trim())) return name;
  return "a message";
}

/**
 * Skype message types that carry nothing to show (control signals, thread bookkeeping): no notice.
 */
export function isSilentType(messageType: string): boolean {
  return /^(control|threadactivity|signal)\//i.test(messageType.trim());
}

/** The notice posted (as the sender's puppet) for a Skype message the bridge cannot show. */
export function unhandledNotice(messageType: string): Record<string, unknown> {
  const what = describeSkypeType(messageType);
  const type = messageType.trim().slice(0, 100) || "unknown";
  return {
    msgtype: "m.notice",
    body: `Sent ${what} on Skype, which this bridge cannot show yet (Skype message type ${type}).`,
    "m.mentions": {},
  };
}

/** `Original-Arrival-Time` (ISO-8601) in ms, or `fallback` when missing or unreadable. */
export function arrivalMs(arrivalTime: string | undefined, fallback: number): number {
  if (arrivalTime === undefined) return fallback;
  const ms = Date.parse(arrivalTime);
  return Number.isFinite(ms) && ms > 0 ? ms : fallback;
}
