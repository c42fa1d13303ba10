// SPDX-License-Identifier: Apache-2.0
/**
 * Message history kept by the MSNP side (PROFILE §5 "History"): one list per person and
 * conversation. 1:1 conversations are keyed by the other party's identity exactly as on the wire
 * (`1:bob@…` and `8:live:bob_1` are separate); threads by thread id. Renders the bodies of
 * `GET MSGR\RECENTCONVERSATIONS` and `GET MSGR\MESSAGESBYCONVERSATION` (REFERENCE §5.2).
 */
import type { HeaderList } from "./frame.js";
import { escapeXml, tag } from "./xml.js";

/** A stored message; one object is shared by every owner's history it appears in. */
export interface StoredMessage {
  /** Server `Message-ID`. */
  readonly id: number;
  /** Arrival time, ms since the epoch. */
  readonly arrival: number;
  /** Sender identity as on the wire, without `;epid=`. */
  readonly from: string;
  /** Recipient identity or thread id as on the wire, without parameters. */
  readonly to: string;
  readonly messageType: string;
  readonly contentType: string;
  readonly content: string;
  readonly clientMessageId?: string;
  readonly imDisplayName: string;
  readonly editedId?: string;
  readonly emoteOffset?: string;
  /** The Messaging block as pushed (server headers included), for inspection. */
  readonly headers: HeaderList;
  /** Key of the sending person. */
  readonly sender: string;
}

/** ISO-8601 UTC to the second: `2015-05-18T20:15:31Z`. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Thrown for an unusable `messagessyncstate` (answered with `201`). */
export class SyncStateError extends Error {
  override readonly name = "SyncStateError";
}

interface SyncState {
  conversation: string;
  before: number;
}

function encodeSyncState(s: SyncState): string {
  return Buffer.from(JSON.stringify({ c: s.conversation, b: s.before }), "utf8").toString("base64url");
}

function decodeSyncState(token: string): SyncState {
  try {
    const v = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { c?: unknown; b?: unknown };
    if (typeof v.c === "string" && typeof v.b === "number" && Number.isFinite(v.b)) {
      return { conversation: v.c, before: v.b };
    }
  } catch {
    // fall through to the error below
  }
  throw new SyncStateError("messagessyncstate is not one this server issued");
}

/** One page of a conversation, newest first. */
export interface HistoryPage {
  readonly messages: StoredMessage[];
  readonly hasMore: boolean;
  readonly syncState: string;
}

/** Per-person, per-conversation message lists (in memory). */
export class HistoryStore {
  /** owner key → conversation key → messages in ascending Message-ID order. */
  private readonly byOwner = new Map<string, Map<string, StoredMessage[]>>();
  private readonly all: StoredMessage[] = [];

  /** Stores `msg` in each owner's conversation. */
  add(msg: StoredMessage, owners: ReadonlyArray<{ owner: string; conversation: string }>): void {
    this.all.push(msg);
    for (const { owner, conversation } of owners) {
      let convs = this.byOwner.get(owner);
      if (!convs) this.byOwner.set(owner, (convs = new Map<string, StoredMessage[]>()));
      let list = convs.get(conversation);
      if (!list) convs.set(conversation, (list = []));
      list.push(msg);
    }
  }

  /** Every stored message, oldest first. */
  everything(): readonly StoredMessage[] {
    return this.all;
  }

  /** An owner's conversations (key → messages, oldest first). */
  conversationsOf(owner: string): ReadonlyMap<string, readonly StoredMessage[]> {
    return this.byOwner.get(owner) ?? new Map<string, StoredMessage[]>();
  }

  /** Messages of one conversation of `owner` with id ≥ `start`, paged newest first. */
  page(
    owner: string,
    conversation: string,
    start: number,
    pageSize: number,
    syncState?: string,
  ): HistoryPage {
    let before = Infinity;
    if (syncState) {
      const s = decodeSyncState(syncState);
      if (s.conversation !== conversation)
        throw new SyncStateError("messagessyncstate is for another conversation");
      before = s.before;
    }
    const list = this.byOwner.get(owner)?.get(conversation) ?? [];
    const eligible = list.filter((m) => m.id >= start && m.id < before);
    const messages = eligible.slice(-pageSize).reverse();
    const hasMore = eligible.length > messages.length;
    const oldest = messages[messages.length - 1];
    return {
      messages,
      hasMore,
      syncState: hasMore && oldest ? encodeSyncState({ conversation, before: oldest.id }) : "",
    };
  }
}

/** One `<message>` element (PROFILE §5 lists the fields). */
export function messageXml(m: StoredMessage): string {
  return (
    "<message>" +
    tag("originalarrivaltime", isoSeconds(m.arrival)) +
    tag("from", m.from) +
    tag("to", m.to) +
    tag("messagetype", m.messageType) +
    tag("contenttype", m.contentType) +
    tag("content", m.content) +
    tag("id", m.id) +
    tag("clientmessageid", m.clientMessageId ?? "") +
    tag("imdisplayname", m.imDisplayName) +
    (m.editedId !== undefined ? tag("skypeeditedid", m.editedId) : "") +
    (m.emoteOffset !== undefined ? tag("skypeemoteoffset", m.emoteOffset) : "") +
    "</message>"
  );
}

/** The body of the `GET MSGR\MESSAGESBYCONVERSATION` reply. */
export function messagesByConversationXml(conversation: string, page: HistoryPage): string {
  return (
    "<messagesbyconversation-response>" +
    tag("id", conversation) +
    tag("hasmore", page.hasMore) +
    `<messagessyncstate>${escapeXml(page.syncState)}</messagessyncstate>` +
    "<messages>" +
    page.messages.map(messageXml).join("") +
    "</messages></messagesbyconversation-response>"
  );
}

/**
 * The body of the `GET MSGR\RECENTCONVERSATIONS` reply: conversations whose last message has
 * id ≥ `start`, most recent first, at most `pageSize`, each with its last message. `threadXml`
 * supplies the `<thread>` element of thread conversations; `horizonsXml` the members'
 * `<consumptionhorizon user="…">` elements (PROFILE §7.5), after `<messages>`.
 */
export function recentConversationsXml(
  convs: ReadonlyMap<string, readonly StoredMessage[]>,
  start: number,
  pageSize: number,
  threadXml: (id: string) => string,
  horizonsXml: (id: string) => string = () => "",
): string {
  const rows = [...convs.entries()]
    .map(([id, list]) => ({ id, last: list[list.length - 1] }))
    .filter((r): r is { id: string; last: StoredMessage } => r.last !== undefined && r.last.id >= start)
    .sort((a, b) => b.last.id - a.last.id)
    .slice(0, pageSize);
  const body = rows
    .map(
      (r) =>
        "<conversation>" +
        tag("id", r.id) +
        (r.id.startsWith("19:") ? threadXml(r.id) : "") +
        "<messages>" +
        messageXml(r.last) +
        "</messages>" +
        horizonsXml(r.id) +
        "</conversation>",
    )
    .join("");
  return `<recentconversations-response><conversations>${body}</conversations></recentconversations-response>`;
}
