// SPDX-License-Identifier: Apache-2.0
/**
 * Skype → Matrix: a portal's handlers for chat messages, edits, deletes, unsupported message types
 * and typing. Each runs inside its portal's queue. Order of effects for a message: skip if already in the
 * message map → send as the puppet with a txn id derived from the Skype id (`ts` = arrival time) →
 * record the mapping → advance the cursor. A crash anywhere re-runs the same steps after catch-up;
 * the same txn id returns the same event, and the map check stops a second send. A failure (the
 * portal reports it, portal.ts) before the send means the event did not reach Matrix; one in the
 * bookkeeping after it (`afterDelivery`) means it did, and is only re-run after a restart.
 */
import type {
  DeleteEvent,
  EditEvent,
  MessageEvent,
  ThreadActivityEvent,
  ThreadInfo,
  TypingEvent,
  UnhandledMessageEvent,
} from "../../sessions/types.js";
import type { MessageRow } from "../../store/types.js";
import { Logger } from "../../util/logger.js";
import { skypeToMatrix } from "../convert/index.js";
import { withRetry } from "../matrix/errors.js";
import { txnIdFor } from "../matrix/txn-ids.js";
import { handleMedia, handleMediaEdit } from "./from-skype-media.js";
import { handleThreadActivity, handleThreadUpdate } from "./from-skype-threads.js";
import type { Portal, Speaker } from "./portal.js";
import { skypeReplyTarget } from "./replies.js";
import { afterDelivery } from "./skype-failures.js";
import {
  arrivalMs,
  editContent,
  foreignEditContent,
  isSilentType,
  unhandledNotice,
} from "./skype-content.js";

const log = new Logger("bridge.portal.skype");

/** An event of the user's Skype session, as the portal's queue carries it. */
export type SkypeEvent =
  | { kind: "message"; event: MessageEvent }
  | { kind: "edit"; event: EditEvent }
  | { kind: "delete"; event: DeleteEvent }
  | { kind: "typing"; event: TypingEvent }
  | { kind: "unhandled"; event: UnhandledMessageEvent }
  | { kind: "threadUpdate"; event: ThreadInfo }
  | { kind: "threadActivity"; event: ThreadActivityEvent };

/** Hands a Skype event to its handler. */
export function handleSkypeEvent(p: Portal, e: SkypeEvent): Promise<void> {
  switch (e.kind) {
    case "message":
      return handleMessage(p, e.event);
    case "edit":
      return handleEdit(p, e.event);
    case "delete":
      return handleDelete(p, e.event);
    case "unhandled":
      return handleUnhandled(p, e.event);
    case "typing":
      return handleTyping(p, e.event);
    case "threadUpdate":
      return handleThreadUpdate(p, e.event);
    case "threadActivity":
      return handleThreadActivity(p, e.event);
  }
}

/** True for the message types carried as text (`Text`, `RichText`); `RichText/…` are media. */
function isTextType(messageType: string): boolean {
  const t = messageType.trim().toLowerCase();
  return t === "text" || t === "richtext" || t === "";
}

/** A chat message (text, rich text, `/me`). */
export async function handleMessage(p: Portal, e: MessageEvent): Promise<void> {
  if (e.media) return handleMedia(p, e, e.media);
  if (!isTextType(e.messageType)) {
    return handleUnhandled(p, { ...e, body: e.body, messageType: e.messageType });
  }
  if (p.alreadyBridged(e)) return p.advanceCursor(e);
  if (e.body.trim() === "") {
    log.debug("skipping an empty message", { user: p.receiver, conversation: e.conversation });
    return p.advanceCursor(e);
  }
  const roomId = await p.ensureRoom(e);
  const speaker = await p.speaker(e, roomId);
  const reply = skypeReplyTarget(p, e);
  const content: Record<string, unknown> = {
    ...skypeToMatrix(
      { type: e.format, body: e.body, emote: e.emote },
      { mentionResolver: p.mentionResolver(), replyQuoteMessageId: reply?.quoteMessageId },
    ),
  };
  if (reply) content["m.relates_to"] = { "m.in_reply_to": { event_id: reply.eventId } };
  await postMessage(p, e, roomId, speaker, content);
}

/**
 * Posts a Skype message's Matrix content as `speaker` at its arrival time, then (once delivered)
 * records it, notes when the sender was seen, moves the cursor past it and ends its typing.
 */
export async function postMessage(
  p: Portal,
  e: MessageEvent,
  roomId: string,
  speaker: Speaker,
  content: Record<string, unknown>,
): Promise<void> {
  const ts = arrivalMs(e.arrivalTime, p.bridge.now());
  const eventId = await p.sendAs(
    speaker.mxid,
    roomId,
    { ...content },
    p.txnFor("msg", e),
    ts,
    speaker.self ? { displayname: p.bridge.puppets.selfRoomName(p.user) } : {},
  );
  afterDelivery(() => {
    record(p, e, { roomId, eventId, sentTs: ts });
    if (!speaker.self) p.bridge.store.persons.touchIdentity(e.sender, ts);
    p.advanceCursor(e);
  });
  await p.clearTyping(roomId, speaker.mxid);
}

/** Records a bridged Skype event in the message map. */
export function record(
  p: Portal,
  e: MessageEvent | EditEvent | DeleteEvent | UnhandledMessageEvent,
  at: { roomId: string; eventId: string; sentTs: number; editOf?: number; clientMessageId?: string | null },
): void {
  p.bridge.store.messages.insert({
    receiver: p.receiver,
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
  p.bridge.metrics.skypeDelivered(e);
}

/** The original message an edit or delete refers to (by its Client-Message-ID). */
function originalOf(p: Portal, e: EditEvent | DeleteEvent): MessageRow | undefined {
  const row = p.bridge.store.messages.getByClientId(p.receiver, e.conversation, e.editedId);
  // Skype-EditedId always names the original (PROFILE §3); a row that is itself an edit cannot be one.
  return row && row.editOf === null ? row : undefined;
}

/** An edit: `m.replace` of the original, by the same puppet, stamped with the (monotonic) edit time. */
export async function handleEdit(p: Portal, e: EditEvent): Promise<void> {
  const ownId = e.clientMessageId === e.editedId ? e.clientMessageId : undefined;
  if (p.alreadyBridged(e, ownId)) return p.advanceCursor(e);
  const original = originalOf(p, e);
  if (!original) {
    log.info("edit of a message the bridge never saw; posting it as a new message", { user: p.receiver });
    return handleMessage(p, e);
  }
  if (original.deleted) return p.advanceCursor(e);
  if (e.media) return handleMediaEdit(p, e, e.media, original);
  // The edit of a reply keeps the original's relation: its quote is left out again.
  const reply = skypeReplyTarget(p, e);
  const next = skypeToMatrix(
    { type: e.format, body: e.body, emote: e.emote },
    { mentionResolver: p.mentionResolver(), replyQuoteMessageId: reply?.quoteMessageId },
  );
  await postEdit(p, e, original, ownId, (_sender, replace) =>
    Promise.resolve(
      replace ? editContent(next, original.eventId) : foreignEditContent(next, original.eventId),
    ),
  );
}

/**
 * Posts a Skype edit of `original`: as `m.replace` by whoever posted the original (its puppet, or
 * the user's real account when double-puppeted), or, for a message the user sent from Matrix that
 * nobody else may replace, as a reply to it. `content` builds the event for the chosen sender and
 * form; the edit is stamped after the original's latest edit, recorded and the cursor moved.
 */
export async function postEdit(
  p: Portal,
  e: EditEvent,
  original: MessageRow,
  ownId: string | undefined,
  content: (sender: string, replace: boolean) => Promise<Record<string, unknown>>,
): Promise<void> {
  const last = p.bridge.store.messages.latestEdit(original.id)?.sentTs ?? original.sentTs;
  const ts = Math.max(arrivalMs(e.arrivalTime, p.bridge.now()), last + 1);
  const roomId = original.roomId;
  let sender: string;
  let replace: boolean;
  if (original.direction === "to_matrix") {
    sender = (await p.puppetOf(original.sender, original)).mxid;
    replace = true;
  } else {
    const speaker = await p.speaker({ ...e, fromMe: true }, roomId);
    sender = speaker.mxid;
    // As the user's real account (double puppeting) the original is theirs to replace.
    replace = speaker.double === true;
  }
  const eventId = await p.sendAs(sender, roomId, await content(sender, replace), p.txnFor("edit", e), ts);
  afterDelivery(() => {
    record(p, e, {
      roomId,
      eventId,
      sentTs: ts,
      editOf: original.id,
      clientMessageId: ownId ? null : undefined,
    });
    p.advanceCursor(e);
  });
}

/** A delete: the original (every part) redacted by the puppet that sent it, or by the bot. */
export async function handleDelete(p: Portal, e: DeleteEvent): Promise<void> {
  const ownId = e.clientMessageId === e.editedId ? e.clientMessageId : undefined;
  if (p.alreadyBridged(e, ownId)) return p.advanceCursor(e);
  const original = originalOf(p, e);
  if (!original || original.deleted) return p.advanceCursor(e);
  const redacter =
    original.direction === "to_matrix"
      ? (await p.puppetOf(original.sender, original)).mxid
      : p.bridge.botUserId;
  let redaction = "";
  const { store, retry, matrix } = p.bridge;
  for (const part of store.messages.parts(original)) {
    const txn = txnIdFor("del", p.receiver, e.conversation, part.eventId);
    redaction = await withRetry(retry, () =>
      matrix.redact(redacter, part.roomId, part.eventId, txn, "Deleted on Skype"),
    );
  }
  afterDelivery(() => {
    store.messages.markDeleted(original.id);
    if (redaction !== "") {
      record(p, e, {
        roomId: original.roomId,
        eventId: redaction,
        sentTs: arrivalMs(e.arrivalTime, p.bridge.now()),
        editOf: original.id,
        clientMessageId: ownId ? null : undefined,
      });
    }
    p.advanceCursor(e);
  });
}

/** A Skype message type the bridge cannot show: a notice from the sender's puppet says so. */
export async function handleUnhandled(p: Portal, e: UnhandledMessageEvent): Promise<void> {
  if (isSilentType(e.messageType)) {
    log.debug("ignoring a control message", { type: e.messageType });
    return p.advanceCursor(e);
  }
  if (p.alreadyBridged(e)) return p.advanceCursor(e);
  const roomId = await p.ensureRoom(e);
  const speaker = await p.speaker(e, roomId);
  const ts = arrivalMs(e.arrivalTime, p.bridge.now());
  const eventId = await p.sendAs(
    speaker.mxid,
    roomId,
    unhandledNotice(e.messageType),
    p.txnFor("note", e),
    ts,
  );
  afterDelivery(() => {
    record(p, e, { roomId, eventId, sentTs: ts });
    p.advanceCursor(e);
  });
  await p.clearTyping(roomId, speaker.mxid);
}

/** Typing in an existing portal, shown on the contact's puppet (never creates a room). */
export async function handleTyping(p: Portal, e: TypingEvent): Promise<void> {
  if (e.fromMe || p.user.isSelf(e.sender)) return;
  const roomId = p.roomId;
  if (roomId === undefined) return;
  const { puppets, members, matrix, typingTimeoutMs } = p.bridge;
  const puppet = await puppets.ensure(e.sender);
  if (!e.typing) return p.clearTyping(roomId, puppet.mxid);
  await members.ensureJoined(roomId, puppet.mxid);
  await matrix.setTyping(puppet.mxid, roomId, true, typingTimeoutMs);
  p.typingPuppets.add(puppet.mxid);
}
