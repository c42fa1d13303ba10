// SPDX-License-Identifier: Apache-2.0
/**
 * Matrix → Skype: a portal's handlers for the room events its linked user sends — messages become
 * Skype sends through the durable outbox, edits and redactions change the Skype message, renames
 * set a group's topic — and for their typing. Events of anyone else in the room are not bridged.
 * Messages Skype cannot carry get a "⚠️ Your … was not bridged" notice.
 */
import { SkypeError, SkypeErrorCode } from "../../skype/errors.js";
import type { MessageRow } from "../../store/types.js";
import { errorText, Logger } from "../../util/logger.js";
import { matrixToSkype, type MatrixMessageContent } from "../convert/index.js";
import { puppetPerson } from "../ghosts/ids.js";
import { classifyEvent, type MatrixMediaRef, type MatrixRoomEvent } from "./matrix-event-kinds.js";
import { failureReason, type NoticeTarget } from "./not-bridged.js";
import type { MediaPayload, OutboxPayload } from "./outbox-payload.js";
import type { Portal } from "./portal.js";
import { skypeQuoteFor, skypeQuoteForEdit, withQuote } from "./replies.js";

const log = new Logger("bridge.portal.matrix");

/** A message the user can edit or delete on Skype: its Client-Message-ID and wire conversation. */
interface SkypeOriginal {
  readonly clientMessageId: string;
  readonly conversation: string;
  /** True when the Matrix event is itself an edit (or a deletion). */
  readonly isEdit: boolean;
}

/**
 * Handles one room event of the portal's room. Resolves once it has been handled (a send is durably
 * queued, not necessarily delivered), so the inbox can mark it done.
 */
export async function handleMatrixEvent(p: Portal, ev: MatrixRoomEvent): Promise<void> {
  if (ev.sender !== p.receiver) {
    log.debug("ignoring an event from someone other than the portal's user", { room: ev.room_id });
    return;
  }
  if ((ev.type === "m.room.name" || ev.type === "m.room.topic") && ev.state_key === "") {
    return renameThread(p, ev);
  }
  const action = classifyEvent(ev);
  switch (action.kind) {
    case "send":
      return send(p, ev, action.content, action.notice);
    case "edit":
      return edit(p, ev, action.target, action.content);
    case "redact":
      return redact(p, ev, action.target);
    case "media":
      if (action.target !== undefined) return editMedia(p, ev, action.target, action.media);
      return submit(p, ev, p.skypeConversation, { ...base(ev), kind: "media", ...mediaFields(action.media) });
    case "unsupported":
      return p.bridge.notices.notBridged(noticeTarget(ev), action.subject, action.reason, "unsupported");
    case "ignore":
      log.debug("event not bridged", { room: ev.room_id, event: ev.event_id, why: action.why });
      return;
  }
}

/** The linked user's typing state in the room, forwarded to Skype when it changed. */
export function handleMatrixTyping(p: Portal, typingUserIds: readonly unknown[]): void {
  const typing = typingUserIds.includes(p.receiver);
  if (p.userTyping === typing) return;
  p.userTyping = typing;
  const sent = p.bridge.sessions.get(p.receiver)?.sendTyping(p.skypeConversation, typing) ?? false;
  log.debug("typing forwarded", { room: p.roomId, typing, sent });
}

/**
 * The user renamed a group portal (or changed its topic): a Skype thread has one topic, which the
 * portal shows as both name and topic, so either change sets it. DM portals keep their names.
 */
async function renameThread(p: Portal, ev: MatrixRoomEvent): Promise<void> {
  const field = ev.type === "m.room.name" ? "name" : "topic";
  const value = ev.content[field];
  if (p.kind !== "group" || typeof value !== "string" || !value.trim()) return;
  const session = p.bridge.sessions.get(p.receiver);
  try {
    if (!session) throw new SkypeError(SkypeErrorCode.NotConnected, "not linked", true);
    await session.setThreadTopic(p.id, value.trim());
  } catch (e) {
    log.warn("could not set the Skype thread's topic", { room: ev.room_id, error: errorText(e) });
    await p.bridge.notices.notBridged(noticeTarget(ev), `${field} change`, failureReason(e));
  }
}

function base(ev: MatrixRoomEvent): { v: 1; sender: string; ts: number } {
  const ts = typeof ev.origin_server_ts === "number" ? ev.origin_server_ts : Date.now();
  return { v: 1, sender: ev.sender, ts };
}

function submit(p: Portal, ev: MatrixRoomEvent, conversation: string, payload: OutboxPayload): void {
  const result = p.bridge.outbox.submit({
    receiver: p.receiver,
    roomId: ev.room_id,
    eventId: ev.event_id,
    conversation,
    payload,
  });
  log.debug("Matrix event queued for Skype", { room: ev.room_id, event: ev.event_id, result });
}

async function send(
  p: Portal,
  ev: MatrixRoomEvent,
  content: MatrixMessageContent,
  notice: boolean,
): Promise<void> {
  const out = convert(p, content);
  if (out.body.trim() === "") return;
  // A reply quotes the Skype message it answers (§7.4); Skype's `/me` carries no markup.
  const quote = out.kind === "emote" ? undefined : await skypeQuoteFor(p, content);
  const payload: OutboxPayload =
    quote !== undefined && out.kind !== "emote"
      ? { ...base(ev), kind: "richtext", body: withQuote(quote, { kind: out.kind, body: out.body }) }
      : { ...base(ev), kind: out.kind, body: out.body };
  submit(p, ev, p.skypeConversation, notice ? { ...payload, quiet: true } : payload);
}

async function edit(
  p: Portal,
  ev: MatrixRoomEvent,
  target: string,
  content: MatrixMessageContent,
): Promise<void> {
  const original = await editTarget(p, ev, target);
  if (!original) return;
  const out = convert(p, content);
  if (out.body.trim() === "") return; // an empty edit would delete the message on Skype
  // The edit of a reply replaces the whole Skype message: its quote goes again.
  const quote = out.kind === "emote" ? undefined : await skypeQuoteForEdit(p, target);
  submit(p, ev, original.conversation, {
    ...base(ev),
    kind: "edit",
    target: original.clientMessageId,
    originalEventId: target,
    format: quote !== undefined || out.kind === "richtext" ? "richtext" : "text",
    body:
      quote !== undefined && out.kind !== "emote"
        ? withQuote(quote, { kind: out.kind, body: out.body })
        : out.body,
    emote: out.kind === "emote",
  });
}

/** An edit whose new content is an image or a file: the new object replaces the Skype message. */
async function editMedia(
  p: Portal,
  ev: MatrixRoomEvent,
  target: string,
  media: MatrixMediaRef,
): Promise<void> {
  const original = await editTarget(p, ev, target);
  if (!original) return;
  submit(p, ev, original.conversation, {
    ...base(ev),
    kind: "media",
    ...mediaFields(media),
    target: original.clientMessageId,
    originalEventId: target,
  });
}

async function redact(p: Portal, ev: MatrixRoomEvent, target: string): Promise<void> {
  const original = originalOf(p, target);
  if (!original) return; // not a message on Skype (a notice, an image, …) or already deleted
  if (original.isEdit)
    return p.bridge.notices.notBridged(
      noticeTarget(ev),
      "redaction",
      "Skype cannot undo a single edit.",
      "redact",
    );
  submit(p, ev, original.conversation, {
    ...base(ev),
    kind: "delete",
    target: original.clientMessageId,
    originalEventId: target,
  });
}

/**
 * The Skype message behind Matrix event `eventId`, if the user may change it: one the bridge sent
 * (mapped or still queued) or one the user sent from another Skype endpoint. `undefined`: not
 * known at all; `null`: known but not changeable (someone else's, or deleted).
 */
/**
 * The Skype message an edit of `target` changes, or undefined when there is none to change: someone
 * else's message or a deleted one (ignored), an edit (edits must target the original, per the spec),
 * or a message that never reached Skype (the sender is told).
 */
async function editTarget(
  p: Portal,
  ev: MatrixRoomEvent,
  target: string,
): Promise<SkypeOriginal | undefined> {
  const original = originalOf(p, target);
  if (original === null || original?.isEdit) return undefined;
  if (original === undefined) {
    await p.bridge.notices.notBridged(
      noticeTarget(ev),
      "edit",
      "the message it changes never reached Skype.",
      "edit",
    );
    return undefined;
  }
  return original;
}

function originalOf(p: Portal, eventId: string): SkypeOriginal | null | undefined {
  const { store } = p.bridge;
  const row = store.messages.getByEventId(eventId);
  if (row) return changeable(p, row);
  const queued = store.outbox.getByEventId(eventId);
  if (!queued || queued.receiver !== p.receiver) return undefined;
  const kind = (queued.payload as { kind?: unknown } | null)?.kind;
  return {
    clientMessageId: queued.clientMessageId,
    conversation: queued.conversation,
    isEdit: kind === "edit" || kind === "delete",
  };
}

function changeable(p: Portal, row: MessageRow): SkypeOriginal | null {
  if (row.receiver !== p.receiver || row.deleted || row.clientMessageId === null) return null;
  const mine = row.direction === "to_skype" || p.user.isSelf(row.sender);
  if (!mine) return null;
  return {
    clientMessageId: row.clientMessageId,
    conversation: row.conversation,
    isEdit: row.editOf !== null,
  };
}

/** Matrix content → what Skype gets. `/me` is plain text (Skype's emote carries no markup). */
function convert(
  p: Portal,
  content: MatrixMessageContent,
): { kind: "text" | "richtext" | "emote"; body: string } {
  const opts = { puppetResolver: (mxid: string) => mriOfPuppet(p, mxid) };
  const out = matrixToSkype(content, opts);
  if (!out.emote) return { kind: out.type, body: out.body };
  return { kind: "emote", body: matrixToSkype(withoutHtml(content), opts).body };
}

function mriOfPuppet(p: Portal, mxid: string): string | undefined {
  const personId = puppetPerson(p.bridge, mxid);
  if (personId === undefined) return undefined;
  const { persons } = p.bridge.store;
  const person = persons.getByIdentity(personId);
  return (person && persons.replyIdentity(person.id)) ?? personId;
}

/** The stored form of an image or a file to send (outbox-media.ts does the rest). */
function mediaFields(
  m: MatrixMediaRef,
): Pick<MediaPayload, "media" | "url" | "name" | "subject" | "mimetype" | "size" | "file"> {
  return {
    media: m.kind,
    url: m.url,
    name: m.name,
    subject: m.subject,
    ...(m.mimetype !== undefined ? { mimetype: m.mimetype } : {}),
    ...(m.size !== undefined ? { size: m.size } : {}),
    ...(m.file !== undefined ? { file: m.file } : {}),
  };
}

function noticeTarget(ev: MatrixRoomEvent): NoticeTarget {
  return { roomId: ev.room_id, eventId: ev.event_id, sender: ev.sender };
}

/** The content (and its `m.new_content`) without HTML, so the plain body is used. */
function withoutHtml(content: MatrixMessageContent): MatrixMessageContent {
  const strip = (c: Record<string, unknown>): Record<string, unknown> => {
    const { format: _f, formatted_body: _b, ...rest } = c;
    return rest;
  };
  const copy = strip(content);
  const nc = content["m.new_content"];
  if (nc !== null && typeof nc === "object" && !Array.isArray(nc))
    copy["m.new_content"] = strip(nc as Record<string, unknown>);
  return copy;
}
