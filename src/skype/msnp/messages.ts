// SPDX-License-Identifier: Apache-2.0
/**
 * Building `SDG` bodies (REFERENCE §7.1, PROFILE §3 "Messages", "Edits", "/me", "Typing",
 * "Rich text") and turning received pushes or history records into one normalised shape.
 */
import { randomBytes } from "node:crypto";
import { buildMultipart, type MultipartBody } from "./body.js";
import { bareMri, epidOf, isMessageId, type SelfIdentity } from "./identity.js";

/** Content of an outgoing message. */
export type OutgoingContent =
  | { kind: "text"; text: string }
  | { kind: "richtext"; html: string }
  | { kind: "emote"; text: string }
  | { kind: "edit"; editedId: string; text: string; format: "text" | "richtext"; emote?: boolean }
  | { kind: "delete"; editedId: string; format: "text" | "richtext" }
  /** An image or a file (PROFILE §7.3): a URIObject body under its Message-Type; an edit replaces one. */
  | { kind: "media"; messageType: string; xml: string; editedId?: string }
  | { kind: "typing"; typing: boolean };

/** Who sends: own MRI (`8:<skypename>`), epid and display name. */
export interface Sender {
  mri: string;
  epid: string;
  displayName: string;
}

const TEXT_TYPE = "Text/plain; charset=UTF-8";

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
const RICH_TYPE = "application/user+xml";

/** A fresh Client-Message-ID: a 64-bit unsigned decimal, like Skype's. */
export function newClientMessageId(): string {
  return (randomBytes(8).readBigUInt64BE() >> 1n).toString();
}

/** The length of `s` in Unicode code points (the unit of `Skype-EmoteOffset`). */
export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Builds the multi-part body of an `SDG` (without the top block). */
export function buildSdgBody(
  to: string,
  sender: Sender,
  content: OutgoingContent,
  clientMessageId?: string,
): Buffer {
  const routing: [string, string][] = [
    ["Routing", "1.0"],
    ["To", to],
    ["From", `${sender.mri};epid={${sender.epid}}`],
  ];
  const messaging: [string, string][] = [["Messaging", "2.0"]];
  if (clientMessageId !== undefined) messaging.push(["Client-Message-ID", clientMessageId]);
  let body = "";
  let contentType = TEXT_TYPE;
  switch (content.kind) {
    case "text":
      messaging.push(["Message-Type", "Text"]);
      body = content.text;
      break;
    case "richtext":
      messaging.push(["Message-Type", "RichText"]);
      contentType = RICH_TYPE;
      body = content.html;
      break;
    case "emote":
      messaging.push(
        ["Message-Type", "Text"],
        ["Skype-EmoteOffset", String(codePointLength(sender.displayName))],
      );
      body = `${sender.displayName} ${content.text}`;
      break;
    case "edit":
    case "delete":
      messaging.push(["Message-Type", content.format === "richtext" ? "RichText" : "Text"]);
      messaging.push(["Skype-EditedId", content.editedId]);
      if (content.format === "richtext") contentType = RICH_TYPE;
      body = content.kind === "edit" ? content.text : "";
      if (content.kind === "edit" && content.emote) {
        // An edited /me keeps its form: the name prefix and its offset, as in a new emote.
        const name = content.format === "richtext" ? xmlEscape(sender.displayName) : sender.displayName;
        messaging.push(["Skype-EmoteOffset", String(codePointLength(name))]);
        body = `${name} ${content.text}`;
      }
      break;
    case "media":
      messaging.push(["Message-Type", content.messageType]);
      if (content.editedId !== undefined) messaging.push(["Skype-EditedId", content.editedId]);
      contentType = RICH_TYPE;
      body = content.xml;
      break;
    case "typing":
      messaging.push(["Message-Type", content.typing ? "Control/Typing" : "Control/ClearTyping"]);
      contentType = "Application/Message";
      break;
  }
  messaging.push(["IM-Display-Name", sender.displayName], ["Content-Type", contentType]);
  return buildMultipart({ routing, content: messaging, body });
}

/** A received message in one shape, whether pushed or read from history. */
export interface RawMessage {
  conversation: string;
  from: string;
  fromEpid?: string;
  to: string;
  fromMe: boolean;
  messageType: string;
  contentType?: string;
  content: string;
  messageId?: string;
  clientMessageId?: string;
  arrivalTime?: string;
  displayName?: string;
  editedId?: string;
  emoteOffset?: string;
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s === "" ? undefined : s);

/** Normalises a pushed `SDG` body. Returns undefined when it has no usable routing. */
export function rawFromPush(mm: MultipartBody, self: SelfIdentity): RawMessage | undefined {
  const fromFull = mm.routing.get("From");
  const toFull = mm.routing.get("To");
  if (!fromFull || !toFull) return undefined;
  const c = mm.content;
  const from = bareMri(fromFull);
  const messageId = c.get("Message-ID");
  return {
    conversation: self.conversationOf(from, toFull),
    from,
    fromEpid: epidOf(fromFull),
    to: bareMri(toFull),
    fromMe: self.isMe(from),
    messageType: c.get("Message-Type") ?? "Text",
    contentType: c.get("Content-Type"),
    content: mm.body.toString("utf8"),
    messageId: isMessageId(messageId) ? messageId : undefined,
    clientMessageId: nonEmpty(c.get("Client-Message-ID")),
    arrivalTime: nonEmpty(c.get("Original-Arrival-Time")),
    displayName: c.get("IM-Display-Name"),
    editedId: nonEmpty(c.get("Skype-EditedId")),
    emoteOffset: nonEmpty(c.get("Skype-EmoteOffset")),
  };
}

/**
 * Parses `Skype-EmoteOffset` given as a number or a quoted string (PROFILE §3 "/me").
 * Returns undefined when absent or not a non-negative integer.
 */
export function parseEmoteOffset(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value
    .trim()
    .replace(/^"(.*)"$/, "$1")
    .replace(/^'(.*)'$/, "$1")
    .trim();
  if (!/^\d{1,6}$/.test(v)) return undefined;
  return Number(v);
}

/** Drops `offset` code points, then one leading space if present. */
export function stripEmotePrefix(body: string, offset: number): string {
  const rest = Array.from(body).slice(offset).join("");
  return rest.startsWith(" ") ? rest.slice(1) : rest;
}
