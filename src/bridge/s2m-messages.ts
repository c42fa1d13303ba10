// SPDX-License-Identifier: Apache-2.0
/**
 * Skype → Matrix handlers for chat messages, edits, deletes, unsupported message types and typing.
 * Each runs inside its portal's FIFO queue. Order of effects for a message: skip if already in the
 * message map → send as the puppet with a txn id derived from the Skype id (`ts` = arrival time) →
 * record the mapping → advance the cursor. A crash anywhere re-runs the same steps after catch-up;
 * the same txn id returns the same event, and the map check stops a second send.
 */
import type {
  DeleteEvent,
  EditEvent,
  MessageEvent,
  Session,
  TypingEvent,
  UnhandledMessageEvent,
} from "../sessions/types.js";
import type { MessageRow } from "../store/types.js";
import { skypeToMatrix } from "./convert/index.js";
import { arrivalMs, editContent, foreignEditContent, isSilentType, unhandledNotice } from "./s2m-content.js";
import {
  advanceCursor,
  alreadyBridged,
  clearTyping,
  mentionResolver,
  portalOf,
  selfPuppet,
  selfRoomName,
  sendAs,
  speakerIn,
  txnFor,
  type S2MDeps,
} from "./s2m-deps.js";
import { txnIdFor, withRetry } from "./s2m-matrix.js";

/** True for the message types carried as text (`Text`, `RichText`); `RichText/…` are media. */
function isTextType(messageType: string): boolean {
  const t = messageType.trim().toLowerCase();
  return t === "text" || t === "richtext" || t === "";
}

/** A chat message (text, rich text, `/me`). */
export async function handleMessage(d: S2MDeps, session: Session, e: MessageEvent): Promise<void> {
  const receiver = session.mxid;
  if (!isTextType(e.messageType)) {
    return handleUnhandled(d, session, { ...e, body: e.body, messageType: e.messageType });
  }
  if (alreadyBridged(d, receiver, e)) return advanceCursor(d, receiver, e);
  if (e.body.trim() === "") {
    d.log.debug("skipping an empty message", { user: receiver, conversation: e.conversation });
    return advanceCursor(d, receiver, e);
  }
  const roomId = await portalOf(d, receiver, e.conversation, e);
  const speaker = await speakerIn(d, session, e, roomId);
  const content = skypeToMatrix(
    { type: e.format, body: e.body, emote: e.emote },
    { mentionResolver: mentionResolver(d, session) },
  );
  const ts = arrivalMs(e.arrivalTime, d.now());
  const eventId = await sendAs(
    d,
    speaker.mxid,
    roomId,
    { ...content },
    txnFor("msg", receiver, e),
    ts,
    speaker.self ? { displayname: selfRoomName(session) } : {},
  );
  record(d, receiver, e, { roomId, eventId, sentTs: ts });
  if (!speaker.self) d.ctx.store.persons.touchIdentity(e.sender, ts);
  advanceCursor(d, receiver, e);
  await clearTyping(d, roomId, speaker.mxid);
}

/** Records a bridged Skype event in the message map. */
function record(
  d: S2MDeps,
  receiver: string,
  e: MessageEvent | EditEvent | DeleteEvent | UnhandledMessageEvent,
  at: { roomId: string; eventId: string; sentTs: number; editOf?: number; clientMessageId?: string | null },
): void {
  d.ctx.store.messages.insert({
    receiver,
    conversation: e.conversation,
    skypeMessageId: e.messageId ?? null,
    clientMessageId: at.clientMessageId !== undefined ? at.clientMessageId : (e.clientMessageId ?? null),
    roomId: at.roomId,
    eventId: at.eventId,
    direction: "to_matrix",
    sender: e.sender,
    sentTs: at.sentTs,
    editOf: at.editOf ?? null,
  });
}

/** The original message an edit or delete refers to (by its Client-Message-ID). */
function originalOf(d: S2MDeps, receiver: string, e: EditEvent | DeleteEvent): MessageRow | undefined {
  const row = d.ctx.store.messages.getByClientId(receiver, e.conversation, e.editedId);
  // Skype-EditedId always names the original (PROFILE §3); a row that is itself an edit cannot be one.
  return row && row.editOf === null ? row : undefined;
}

/** An edit: `m.replace` of the original, by the same puppet, stamped with the (monotonic) edit time. */
export async function handleEdit(d: S2MDeps, session: Session, e: EditEvent): Promise<void> {
  const receiver = session.mxid;
  const ownId = e.clientMessageId === e.editedId ? e.clientMessageId : undefined;
  if (alreadyBridged(d, receiver, e, ownId)) return advanceCursor(d, receiver, e);
  const original = originalOf(d, receiver, e);
  if (!original) {
    d.log.info("edit of a message the bridge never saw; posting it as a new message", { user: receiver });
    return handleMessage(d, session, e);
  }
  if (original.deleted) return advanceCursor(d, receiver, e);
  const next = skypeToMatrix(
    { type: e.format, body: e.body, emote: e.emote },
    { mentionResolver: mentionResolver(d, session) },
  );
  const last = d.ctx.store.messages.latestEdit(original.id)?.sentTs ?? original.sentTs;
  const ts = Math.max(arrivalMs(e.arrivalTime, d.now()), last + 1);
  const roomId = original.roomId;
  let sender: string;
  let content: Record<string, unknown>;
  if (original.direction === "to_matrix") {
    const puppet = d.portals.isSelf(receiver, original.sender)
      ? await selfPuppet(d, session)
      : await d.puppets.ensure(original.sender);
    sender = puppet.mxid;
    content = editContent(next, original.eventId);
  } else {
    sender = (await speakerIn(d, session, { ...e, fromMe: true }, roomId)).mxid;
    content = foreignEditContent(next, original.eventId);
  }
  const eventId = await sendAs(d, sender, roomId, content, txnFor("edit", receiver, e), ts);
  record(d, receiver, e, {
    roomId,
    eventId,
    sentTs: ts,
    editOf: original.id,
    clientMessageId: ownId ? null : undefined,
  });
  advanceCursor(d, receiver, e);
}

/** A delete: the original (every part) redacted by the puppet that sent it, or by the bot. */
export async function handleDelete(d: S2MDeps, session: Session, e: DeleteEvent): Promise<void> {
  const receiver = session.mxid;
  const ownId = e.clientMessageId === e.editedId ? e.clientMessageId : undefined;
  if (alreadyBridged(d, receiver, e, ownId)) return advanceCursor(d, receiver, e);
  const original = originalOf(d, receiver, e);
  if (!original || original.deleted) return advanceCursor(d, receiver, e);
  let redacter = d.ctx.botUserId;
  if (original.direction === "to_matrix") {
    redacter = d.portals.isSelf(receiver, original.sender)
      ? (await selfPuppet(d, session)).mxid
      : (await d.puppets.ensure(original.sender)).mxid;
  }
  let redaction = "";
  for (const part of d.ctx.store.messages.parts(original)) {
    const txn = txnIdFor("del", receiver, e.conversation, part.eventId);
    redaction = await withRetry(d.retry, () =>
      d.ops.redact(redacter, part.roomId, part.eventId, txn, "Deleted on Skype"),
    );
  }
  d.ctx.store.messages.markDeleted(original.id);
  if (redaction !== "") {
    record(d, receiver, e, {
      roomId: original.roomId,
      eventId: redaction,
      sentTs: arrivalMs(e.arrivalTime, d.now()),
      editOf: original.id,
      clientMessageId: ownId ? null : undefined,
    });
  }
  advanceCursor(d, receiver, e);
}

/** A Skype message type the bridge cannot show: a notice from the sender's puppet says so. */
export async function handleUnhandled(d: S2MDeps, session: Session, e: UnhandledMessageEvent): Promise<void> {
  const receiver = session.mxid;
  if (isSilentType(e.messageType)) {
    d.log.debug("ignoring a control message", { type: e.messageType });
    return advanceCursor(d, receiver, e);
  }
  if (alreadyBridged(d, receiver, e)) return advanceCursor(d, receiver, e);
  const roomId = await portalOf(d, receiver, e.conversation, e);
  const speaker = await speakerIn(d, session, e, roomId);
  const ts = arrivalMs(e.arrivalTime, d.now());
  const eventId = await sendAs(
    d,
    speaker.mxid,
    roomId,
    unhandledNotice(e.messageType),
    txnFor("note", receiver, e),
    ts,
  );
  record(d, receiver, e, { roomId, eventId, sentTs: ts });
  advanceCursor(d, receiver, e);
  await clearTyping(d, roomId, speaker.mxid);
}

/** Typing in an existing portal, shown on the contact's puppet (never creates a room). */
export async function handleTyping(d: S2MDeps, session: Session, e: TypingEvent): Promise<void> {
  if (e.fromMe || d.portals.isSelf(session.mxid, e.sender)) return;
  const roomId = d.portals.roomFor(session.mxid, e.conversation);
  if (roomId === undefined) return;
  const puppet = await d.puppets.ensure(e.sender);
  const key = `${roomId}\n${puppet.mxid}`;
  if (!e.typing) return clearTyping(d, roomId, puppet.mxid);
  await d.members.ensureJoined(roomId, puppet.mxid);
  await d.ops.setTyping(puppet.mxid, roomId, true, d.typingTimeoutMs);
  d.typing.add(key);
}
