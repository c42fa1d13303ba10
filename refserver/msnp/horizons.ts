// SPDX-License-Identifier: Apache-2.0
/**
 * Read state, the consumption horizon (PROFILE §7.5 [A]):
 *
 * - A client's `PUT n MSGR\CONSUMPTIONHORIZON` with body
 *   `<consumptionhorizon><id>{conversation}</id><horizon>{Message-ID};{ms};{Client-Message-ID}</horizon></consumptionhorizon>`
 *   → `PUT n MSGR` with an empty body. The latest write wins, also when it goes backwards.
 * - The server pushes `NFY 0 MSGR\CONSUMPTIONHORIZON` with
 *   `<consumptionhorizon><id>{conversation as the receiver sees it}</id><user>{reader}</user><horizon>…</horizon></consumptionhorizon>`
 *   to the reader's other endpoints and every endpoint of the other members that may receive
 *   message pushes (subscribed to `<messaging><im/>`). Not stored in history, never re-sent.
 * - `GET MSGR\RECENTCONVERSATIONS` carries each member's latest horizon as
 *   `<consumptionhorizon user="{identity}">{horizon}</consumptionhorizon>` inside `<conversation>`.
 *
 * Identities (PROFILE is silent; choices of this server): in a thread the reader is the MRI they
 * were added as and the conversation is the thread id. In a 1:1 conversation the reader is named,
 * to the other party, by the identity that party's history last saw them write from (their `8:`
 * without history), and that is also the `<id>` the other party gets; the reader's own endpoints get
 * the `<id>` the reader sent. A horizon is kept per reader and conversation, where a 1:1
 * conversation is the other person (so both of their identities name the same one). A member who
 * blocked the reader gets no push.
 */
import { ControlError } from "../control.js";
import type { Person } from "../world.js";
import { ReplyError, type MsnpConnection } from "./connection.js";
import { bareMri, encodeFrame, parseMmm, type Frame } from "./frame.js";
import type { MsnpHub } from "./hub.js";
import { ThreadError, type Thread } from "./threads.js";
import { childText, escapeXml, parseXml, tag } from "./xml.js";

/** Longest accepted horizon value and conversation id. */
const MAX_HORIZON = 256;
const MAX_ID = 512;
/** `{Message-ID};…`: the first field must be a number; the rest is kept as sent (be liberal). */
const HORIZON = /^(\d{1,20})(;[^<>&\r\n]*)?$/;

/** One stored horizon. */
export interface StoredHorizon {
  /** World key of the reader. */
  readonly reader: string;
  /** The reader's identity, as the other members see it. */
  readonly readerMri: string;
  /** The conversation as the reader named it (thread id or the other party's identity). */
  readonly conversation: string;
  /** `t:<thread id>` or `p:<other person's key>`. */
  readonly canonical: string;
  readonly horizon: string;
  /** The horizon's first field. */
  readonly messageId: number;
  /** ms since the epoch when it was set. */
  readonly at: number;
}

/** The latest horizon per reader and conversation. */
export class HorizonStore {
  private readonly byKey = new Map<string, StoredHorizon>();

  set(h: StoredHorizon): void {
    this.byKey.set(`${h.reader}|${h.canonical}`, h);
  }

  get(reader: string, canonical: string): StoredHorizon | undefined {
    return this.byKey.get(`${reader}|${canonical}`);
  }

  list(): StoredHorizon[] {
    return [...this.byKey.values()];
  }
}

/** A conversation id resolved: a thread, or the other person of a 1:1 conversation. */
type Conversation = { thread: Thread; canonical: string } | { other: Person; canonical: string };

/** Resolves a conversation id; throws ThreadError 217 / ReplyError 217 for unknown ones. */
function resolve(hub: MsnpHub, id: string): Conversation {
  if (id.startsWith("19:")) {
    const thread = hub.threads.require(id);
    return { thread, canonical: `t:${thread.id}` };
  }
  const other = /^\d+:/.test(id) ? hub.find(id) : undefined;
  if (!other) throw new ReplyError(217, "Conversation unknown");
  return { other, canonical: `p:${other.key}` };
}

/** Canonical key of a conversation id, or undefined when it names nothing. */
export function canonicalOf(hub: MsnpHub, id: string): string | undefined {
  try {
    return resolve(hub, bareMri(id.trim())).canonical;
  } catch {
    return undefined;
  }
}

/**
 * How `viewer` names `subject` in a 1:1 conversation: the identity of `subject` whose conversation in
 * the viewer's history has the newest message; with no history, `subject`'s `8:` (PROFILE §5).
 */
export function identityAsSeenBy(hub: MsnpHub, viewer: Person, subject: Person): string {
  let best: { id: string; last: number } | undefined;
  for (const [conv, list] of hub.history.conversationsOf(viewer.key)) {
    if (conv.startsWith("19:") || hub.find(conv)?.key !== subject.key) continue;
    const last = list[list.length - 1]?.id ?? 0;
    if (!best || last > best.last) best = { id: conv, last };
  }
  return best?.id ?? hub.world.primaryMri(subject);
}

function nfy(id: string, user: string, horizon: string): Buffer {
  const body = `<consumptionhorizon>${tag("id", id)}${tag("user", user)}${tag("horizon", horizon)}</consumptionhorizon>`;
  return encodeFrame("NFY", 0, "MSGR\\CONSUMPTIONHORIZON", [], body);
}

/**
 * Stores `reader`'s horizon for `conversation` and pushes it (see the file comment). `origin` (the
 * connection that sent it) gets no push. Throws ReplyError/ThreadError for an unknown conversation
 * or a thread the reader is not in, and ReplyError 201 for an unusable horizon.
 */
export function setHorizon(
  hub: MsnpHub,
  reader: Person,
  conversationId: string,
  horizon: string,
  origin?: MsnpConnection,
): StoredHorizon {
  const conversation = bareMri(conversationId.trim());
  if (!conversation || conversation.length > MAX_ID)
    throw new ReplyError(201, "consumptionhorizon needs an id");
  const m = HORIZON.exec(horizon);
  if (!m || horizon.length > MAX_HORIZON) throw new ReplyError(201, "horizon must be {Message-ID};{ms};{id}");
  const conv = resolve(hub, conversation);
  let readerMri: string;
  let others: Array<{ person: Person; id: string }>;
  if ("thread" in conv) {
    const me = conv.thread.members.get(reader.key);
    if (!me) throw new ThreadError(201, "not a member of the thread");
    readerMri = me.mri;
    others = [...conv.thread.members.keys()]
      .filter((k) => k !== reader.key)
      .map((k) => hub.world.people.get(k))
      .filter((p): p is Person => !!p)
      .map((person) => ({ person, id: conv.thread.id }));
  } else {
    readerMri = identityAsSeenBy(hub, conv.other, reader);
    others = conv.other === reader ? [] : [{ person: conv.other, id: readerMri }];
  }
  const stored: StoredHorizon = {
    reader: reader.key,
    readerMri,
    conversation: "thread" in conv ? conv.thread.id : conversation,
    canonical: conv.canonical,
    horizon,
    messageId: Number(m[1]),
    at: Date.now(),
  };
  hub.horizons.set(stored);
  const own = nfy(stored.conversation, readerMri, horizon);
  for (const c of hub.connectionsOf(reader.key)) if (c !== origin && c.canPush) c.write(own);
  for (const o of others) {
    if (o.person.blocked.has(reader.key)) continue;
    const frame = nfy(o.id, readerMri, horizon);
    for (const c of hub.connectionsOf(o.person.key)) if (c.canPush) c.write(frame);
  }
  return stored;
}

/** `PUT MSGR\CONSUMPTIONHORIZON`: a plain `<consumptionhorizon>` body (a Routing/… wrapped one is accepted too). */
export function handleConsumptionHorizon(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  let text = frame.body.toString("utf8");
  if (!text.trimStart().startsWith("<")) text = parseMmm(frame.body).body.toString("utf8");
  const doc = text.trim() ? parseXml(text) : undefined;
  if (!doc || doc.name.toLowerCase() !== "consumptionhorizon")
    throw new ReplyError(201, "expected a <consumptionhorizon> document");
  setHorizon(hub, conn.person!, childText(doc, "id") ?? "", childText(doc, "horizon") ?? "", conn);
  conn.reply(frame);
}

/** The `<consumptionhorizon user=…>` elements of `owner`'s conversation `id` (RECENTCONVERSATIONS). */
export function horizonsXml(hub: MsnpHub, owner: Person, id: string): string {
  const el = (user: string, h: StoredHorizon): string =>
    `<consumptionhorizon user="${escapeXml(user)}">${escapeXml(h.horizon)}</consumptionhorizon>`;
  if (id.startsWith("19:")) {
    const t = hub.threads.get(id);
    if (!t) return "";
    return [...t.members.values()]
      .map((m) => {
        const h = hub.horizons.get(m.key, `t:${t.id}`);
        return h ? el(m.mri, h) : "";
      })
      .join("");
  }
  const other = hub.find(id);
  if (!other) return "";
  const mine = hub.horizons.get(owner.key, `p:${other.key}`);
  const theirs = other === owner ? undefined : hub.horizons.get(other.key, `p:${owner.key}`);
  return (mine ? el(mine.readerMri, mine) : "") + (theirs ? el(id, theirs) : "");
}

/** The control API's `/msnp/read`: `user` read `conversation` up to stored message `messageId`. */
export function controlRead(
  hub: MsnpHub,
  reader: Person,
  conversationId: string,
  messageId: number,
): StoredHorizon {
  // An e-mail or Skype name stands for the person's `8:` identity (MRIs and thread ids are verbatim).
  const named = /^\d+:/.test(conversationId.trim()) ? undefined : hub.find(conversationId);
  const conversation = named ? hub.world.primaryMri(named) : conversationId;
  let cmid: string | undefined;
  for (const [conv, list] of hub.history.conversationsOf(reader.key)) {
    if (canonicalOf(hub, conv) !== canonicalOf(hub, conversation)) continue;
    cmid = list.find((m) => m.id === messageId)?.clientMessageId ?? cmid;
  }
  const horizon = `${messageId};${Date.now()};${cmid || messageId}`;
  try {
    return setHorizon(hub, reader, conversation, horizon);
  } catch (e) {
    if (e instanceof ThreadError) throw new ControlError(e.code === 217 ? 404 : 403, e.message);
    if (e instanceof ReplyError) throw new ControlError(e.code === 217 ? 404 : 400, e.message);
    throw e;
  }
}

/** Stored horizons, filtered by conversation (any id naming the same conversation) and reader. */
export function listHorizons(
  hub: MsnpHub,
  filter: { conversation?: string; user?: Person },
): Array<{
  user: string;
  reader: string;
  conversation: string;
  horizon: string;
  messageId: number;
  at: number;
}> {
  const canonical = filter.conversation !== undefined ? canonicalOf(hub, filter.conversation) : undefined;
  return hub.horizons
    .list()
    .filter(
      (h) =>
        filter.conversation === undefined ||
        h.canonical === canonical ||
        h.conversation === filter.conversation,
    )
    .filter((h) => !filter.user || h.reader === filter.user.key)
    .map((h) => ({
      user: h.readerMri,
      reader: h.reader,
      conversation: h.conversation,
      horizon: h.horizon,
      messageId: h.messageId,
      at: h.at,
    }));
}
