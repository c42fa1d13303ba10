// SPDX-License-Identifier: Apache-2.0
/**
 * What the Skype → Matrix handlers share, and the steps every handler uses: finding the portal of
 * an event, the puppet that speaks for its sender, duplicate detection against the message map,
 * sends with deterministic transaction ids, and advancing the catch-up cursor once handled.
 */
import type { Session, ThreadInfo } from "../sessions/types.js";
import type { MessageMeta } from "../skype/msnp/types.js";
import type { Logger } from "../util/logger.js";
import type { BridgeContext } from "./context.js";
import type { MentionTarget } from "./convert/index.js";
import { displayName } from "./ids.js";
import { isThreadId, type Portals } from "./portals.js";
import { SELF_NAME_TEMPLATE, fallbackName, type PuppetInfo, type Puppets } from "./puppets.js";
import { isForbidden, txnIdFor, withRetry, type MatrixOps, type RetryPolicy } from "./s2m-matrix.js";
import type { RoomMembers } from "./s2m-membership.js";

/** Shared state and collaborators of the handlers. */
export interface S2MDeps {
  readonly ctx: BridgeContext;
  readonly portals: Portals;
  readonly puppets: Puppets;
  readonly ops: MatrixOps;
  readonly members: RoomMembers;
  readonly retry: RetryPolicy;
  readonly typingTimeoutMs: number;
  /** `room\nmxid` of puppets currently shown typing. */
  readonly typing: Set<string>;
  /** Latest thread info per `receiver\nthreadId`. */
  readonly threads: Map<string, ThreadInfo>;
  readonly log: Logger;
  /** Clock (ms), for arrival times missing on the wire. */
  readonly now: () => number;
}

/** A puppet speaking in a portal. */
export interface Speaker extends PuppetInfo {
  self: boolean;
}

/** The thread info known for `threadId`, or a bare one. */
export function threadInfo(d: S2MDeps, receiver: string, threadId: string): ThreadInfo {
  return d.threads.get(`${receiver}\n${threadId}`) ?? { id: threadId, members: [] };
}

/**
 * The portal of an event's conversation, created if missing. With `meta`, the sender's
 * `IM-Display-Name` is noted first, so a DM created for a stranger is named after them at once.
 */
export async function portalOf(
  d: S2MDeps,
  receiver: string,
  conversation: string,
  meta?: MessageMeta,
): Promise<string> {
  if (meta && !meta.fromMe && !d.portals.isSelf(receiver, meta.sender)) {
    d.puppets.noteName(meta.sender, meta.displayName);
  }
  if (isThreadId(conversation)) return d.portals.ensureGroup(receiver, threadInfo(d, receiver, conversation));
  return d.portals.ensureDm(receiver, conversation);
}

/** The user's own puppet (their Skype identities as one person), named "<name> (you, on Skype)" in rooms. */
export async function selfPuppet(d: S2MDeps, session: Session): Promise<PuppetInfo> {
  const ids = d.portals.selfIdentities(session.mxid);
  const first = ids[0];
  if (first === undefined) throw new Error("the session has no Skype identity");
  if (ids.length > 1) d.ctx.store.persons.link(ids);
  return d.puppets.ensure(first, { displayName: session.displayName });
}

/** The per-room name of the user's own puppet. */
export function selfRoomName(session: Session): string {
  return displayName(SELF_NAME_TEMPLATE, session.displayName, fallbackName(session.identities[0] ?? ""));
}

/**
 * The puppet that speaks for `meta`'s sender in `roomId`, joined: the contact's puppet, or for
 * the user's own messages from another endpoint, their own puppet with its per-room name.
 */
export async function speakerIn(
  d: S2MDeps,
  session: Session,
  meta: MessageMeta,
  roomId: string,
): Promise<Speaker> {
  const receiver = session.mxid;
  const self = meta.fromMe || d.portals.isSelf(receiver, meta.sender);
  if (self) {
    const puppet = await selfPuppet(d, session);
    if (!d.members.isKnownJoined(roomId, puppet.mxid)) {
      await d.members.ensureJoined(roomId, puppet.mxid, { displayname: selfRoomName(session) });
      await d.members
        .addServiceMember(roomId, puppet.mxid)
        .catch(() =>
          d.log.debug("could not list the user's puppet as a functional member", { room: roomId }),
        );
    }
    return { ...puppet, self: true };
  }
  const hint = meta.displayName === undefined ? {} : { displayName: meta.displayName };
  const puppet = await d.puppets.ensure(meta.sender, hint);
  await d.members.ensureJoined(roomId, puppet.mxid);
  return { ...puppet, self: false };
}

/** How a Skype event is named in transaction ids: its server Message-ID, else its Client-Message-ID. */
export function skypeKey(meta: MessageMeta): string {
  if (meta.messageId !== undefined) return `m${meta.messageId}`;
  return `c${meta.sender}:${meta.clientMessageId ?? ""}`;
}

/** The deterministic txn id of one Matrix event made from a Skype event. */
export function txnFor(kind: string, receiver: string, meta: MessageMeta, part = 0): string {
  return txnIdFor(kind, receiver, meta.conversation, skypeKey(meta), String(part));
}

/**
 * True when this Skype event was already bridged (by Message-ID or Client-Message-ID), or is the
 * user's own Matrix message still in the outbox. `ignoreClientId` skips the Client-Message-ID check
 * (edits may repeat the original's).
 */
export function alreadyBridged(
  d: S2MDeps,
  receiver: string,
  meta: MessageMeta,
  ignoreClientId?: string,
): boolean {
  const { messages, outbox } = d.ctx.store;
  if (meta.messageId !== undefined && messages.getBySkypeId(receiver, meta.conversation, meta.messageId))
    return true;
  const cmid = meta.clientMessageId;
  if (cmid === undefined || cmid === ignoreClientId) return false;
  const row = messages.getByClientId(receiver, meta.conversation, cmid);
  if (row) {
    if (row.skypeMessageId === null && meta.messageId !== undefined) {
      messages.setSkypeMessageId(row.id, meta.messageId);
    }
    return true;
  }
  return meta.fromMe && outbox.list(receiver).some((o) => o.clientMessageId === cmid);
}

/** Persists the catch-up position once the event is handled. */
export function advanceCursor(d: S2MDeps, receiver: string, meta: MessageMeta): void {
  if (meta.cursor) d.ctx.store.cursors.advance(receiver, meta.cursor.conversation, meta.cursor.messageId);
}

/**
 * Sends as `userId` with retries; a 403 (membership lost) makes the sender re-join once and try
 * again. The txn id makes every retry idempotent.
 */
export async function sendAs(
  d: S2MDeps,
  userId: string,
  roomId: string,
  content: Record<string, unknown>,
  txnId: string,
  ts?: number,
  rejoin?: { displayname?: string },
): Promise<string> {
  const send = (): Promise<string> =>
    withRetry(d.retry, () => d.ops.sendEvent(userId, roomId, "m.room.message", content, txnId, ts));
  try {
    return await send();
  } catch (e) {
    if (!isForbidden(e)) throw e;
    d.members.forget(roomId, userId);
    await d.members.ensureJoined(roomId, userId, rejoin ?? {});
    return send();
  }
}

/** Stops showing `mxid` typing in `roomId` (best effort). */
export async function clearTyping(d: S2MDeps, roomId: string, mxid: string): Promise<void> {
  const k = `${roomId}\n${mxid}`;
  if (!d.typing.delete(k)) return;
  await d.ops.setTyping(mxid, roomId, false, 0).catch(() => undefined);
}

/** Mention pills: the user's own identities → the real user; others → their puppet. */
export function mentionResolver(d: S2MDeps, session: Session): (mri: string) => MentionTarget | undefined {
  return (mri) => {
    if (d.portals.isSelf(session.mxid, mri)) return { mxid: session.mxid, displayName: session.displayName };
    const person = d.ctx.store.persons.getByIdentity(mri);
    if (!person) return undefined;
    return { mxid: d.puppets.mxidOf(person.id), displayName: d.puppets.nameOf(person) };
  };
}
