// SPDX-License-Identifier: Apache-2.0
/**
 * `GET MSGR\RECENTCONVERSATIONS`, `GET MSGR\MESSAGESBYCONVERSATION`, `GET MSGR\THREADS` and
 * `PUT/DEL MSGR\THREAD` (REFERENCE §5.2; PROFILE §5 "History", "Thread creation").
 */
import { ReplyError, type MsnpConnection } from "./connection.js";
import type { Frame } from "./frame.js";
import { messagesByConversationXml, recentConversationsXml } from "./history.js";
import { horizonsXml } from "./horizons.js";
import type { MsnpHub } from "./hub.js";
import { createThread, removeMembers, updateThread, type ThreadActor } from "./thread-ops.js";
import { threadXml } from "./threads.js";
import { child, childElements, childText, parseXml, pathOf, textOf, type XmlElement } from "./xml.js";

function bodyXml(frame: Frame, root: string): XmlElement {
  const text = frame.body.toString("utf8");
  const doc = text.trim() ? parseXml(text) : undefined;
  if (!doc || doc.name.toLowerCase() !== root) throw new ReplyError(201, `expected a <${root}> document`);
  return doc;
}

/** A non-negative integer element, or `fallback` when absent or unusable (be liberal). */
function intOf(el: XmlElement, name: string, fallback: number): number {
  const v = childText(el, name);
  if (v === undefined || !/^\d+$/.test(v)) return fallback;
  return Number(v);
}

function pageSizeOf(hub: MsnpHub, doc: XmlElement): number {
  const max = hub.options.pageSize;
  return Math.max(1, Math.min(max, intOf(doc, "pagesize", max)));
}

function threadXmlFor(hub: MsnpHub, id: string): string {
  const t = hub.threads.get(id);
  return t ? threadXml(t) : "";
}

/**
 * Conversations of the user whose last message has `Message-ID` ≥ `start`, newest first, each with
 * its members' consumption horizons (PROFILE §7.5).
 */
export function handleRecentConversations(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  const doc = bodyXml(frame, "recentconversations");
  const owner = conn.person!;
  const convs = hub.history.conversationsOf(owner.key);
  const body = recentConversationsXml(
    convs,
    intOf(doc, "start", 0),
    pageSizeOf(hub, doc),
    (id) => threadXmlFor(hub, id),
    (id) => horizonsXml(hub, owner, id),
  );
  conn.reply(frame, body);
}

/** One page of a conversation: `Message-ID` ≥ `start`, newest first, `hasmore`, `messagessyncstate`. */
export function handleMessagesByConversation(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  const doc = bodyXml(frame, "messagesbyconversation");
  const id = childText(doc, "id");
  if (!id) throw new ReplyError(201, "messagesbyconversation needs an id");
  const sync = childText(doc, "messagessyncstate") || undefined;
  const page = hub.history.page(conn.person!.key, id, intOf(doc, "start", 0), pageSizeOf(hub, doc), sync);
  conn.reply(frame, messagesByConversationXml(id, page));
}

/** The requested threads the user is a member of. */
export function handleThreads(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  const doc = bodyXml(frame, "threads");
  const out = childElements(doc, "thread")
    .map((t) => hub.threads.get(childText(t, "id") ?? ""))
    .filter((t) => t !== undefined && t.members.has(conn.person!.key))
    .map((t) => threadXml(t!));
  conn.reply(frame, `<threads-response><threads>${out.join("")}</threads></threads-response>`);
}

function actorOf(hub: MsnpHub, conn: MsnpConnection): ThreadActor {
  return { person: conn.person!, mri: hub.world.primaryMri(conn.person!), conn };
}

function membersOf(thread: XmlElement): Array<{ mri: string; role?: string }> {
  return childElements(child(thread, "members"), "member").map((m) => {
    const mri = childText(m, "mri") ?? childText(m, "id");
    if (!mri) throw new ReplyError(201, "a member has no mri");
    return { mri, role: childText(m, "role") };
  });
}

/** `PUT MSGR\THREAD`: create (empty `<id>`), add members / change roles, set the topic. */
export function handlePutThread(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  const doc = bodyXml(frame, "thread");
  const id = childText(doc, "id") ?? "";
  const topicEl = pathOf(doc, "properties", "topic");
  const topic = topicEl ? textOf(topicEl) : undefined;
  const actor = actorOf(hub, conn);
  if (id === "") createThread(hub, actor, membersOf(doc), topic);
  else updateThread(hub, actor, id, membersOf(doc), topic);
  conn.reply(frame);
}

/** `DEL MSGR\THREAD`: remove the listed members (leave when it is oneself). */
export function handleDelThread(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  const doc = bodyXml(frame, "thread");
  const id = childText(doc, "id");
  if (!id) throw new ReplyError(201, "thread id missing");
  removeMembers(
    hub,
    actorOf(hub, conn),
    id,
    membersOf(doc).map((m) => m.mri),
  );
  conn.reply(frame);
}
