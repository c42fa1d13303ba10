// SPDX-License-Identifier: Apache-2.0
/**
 * What tests can make the MSNP side do or tell them (PROFILE §6): a contact sends, edits, deletes
 * or types; presence changes; thread operations as some user; dropping connections; and read-only
 * views of stored and received messages and of connected endpoints. Used by MsnpServer's methods
 * and the control routes. Failures are ControlError (400 bad input, 404 unknown, 403 refused).
 */
import { ControlError } from "../control.js";
import type { Person } from "../world.js";
import { ReplyError } from "./connection.js";
import type { StoredMessage } from "./history.js";
import type { DropPlan, MsnpHub, ReceivedRecord } from "./hub.js";
import { deliver } from "./messaging.js";
import { announcePresence, controlEpid } from "./presence.js";
import { STATUSES } from "./presence-store.js";
import { ThreadError } from "./threads.js";

/** A message a contact sends through the control API. */
export interface ControlMessage {
  /** Sender: an MRI used verbatim as `From`, or an e-mail / Skype name (then their `8:` MRI). */
  from: string;
  /** Recipient MRI (as it will appear on the wire) or thread id. */
  to: string;
  text: string;
  /** `text` (default), `richtext` (body sent as given, already Skype HTML) or `emote` (`/me`). */
  kind?: "text" | "richtext" | "emote";
  clientMessageId?: string;
  /** `IM-Display-Name`; default the sender's display name. */
  displayName?: string;
  /** Makes it an edit of the message with this Client-Message-ID (empty text deletes). */
  editedId?: string;
}

/** Result of a control send. */
export interface ControlSendResult {
  messageId: number;
  clientMessageId: string;
}

/** Finds a person or throws ControlError 404. */
export function personOf(hub: MsnpHub, id: string): Person {
  const p = hub.find(id);
  if (!p) throw new ControlError(404, `unknown person ${id}`);
  return p;
}

/** The wire identity for `id`: verbatim when it is an MRI, else the person's primary MRI. */
export function wireMri(hub: MsnpHub, id: string, p: Person): string {
  return /^\d+:/.test(id.trim()) ? id.trim() : hub.world.primaryMri(p);
}

/** Runs `fn`, turning protocol refusals into ControlErrors. */
export function asControl<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ThreadError) throw new ControlError(e.code === 217 ? 404 : 403, e.message);
    if (e instanceof ReplyError) throw new ControlError(e.code === 217 ? 404 : 400, e.message);
    throw e;
  }
}

/** A contact sends a text / rich text / emote (or an edit) to a user or a thread. */
export function controlSend(hub: MsnpHub, m: ControlMessage): ControlSendResult {
  const sender = personOf(hub, m.from);
  const from = wireMri(hub, m.from, sender);
  const name = m.displayName ?? sender.displayName;
  const kind = m.kind ?? "text";
  const clientMessageId = m.clientMessageId ?? hub.newClientMessageId();
  let body = m.text;
  const messaging: Array<[string, string]> = [
    ["Messaging", "2.0"],
    ["Client-Message-ID", clientMessageId],
    ["Message-Type", kind === "richtext" ? "RichText" : "Text"],
    ["IM-Display-Name", name],
    ["Content-Type", kind === "richtext" ? "application/user+xml" : "Text/plain; charset=UTF-8"],
  ];
  if (kind === "emote") {
    body = `${name} ${m.text}`;
    messaging.push(["Skype-EmoteOffset", String([...name].length)]);
  }
  if (m.editedId !== undefined) messaging.push(["Skype-EditedId", m.editedId]);
  const messageId = asControl(() =>
    deliver(hub, { sender, from, to: m.to, messaging, body: Buffer.from(body, "utf8") }),
  );
  return { messageId, clientMessageId };
}

/** A message with any `Message-Type`, `Content-Type` and body (URIObjects, hostile input …). */
export interface RawControlMessage {
  /** As in ControlMessage. */
  from: string;
  to: string;
  messageType: string;
  /** Default `application/user+xml` for `RichText*` types, else `Text/plain; charset=UTF-8`. */
  contentType?: string;
  body: string;
  clientMessageId?: string;
  displayName?: string;
}

/** Header values must stay on one line: a CR or LF in one would forge headers. */
function headerValue(name: string, v: string): string {
  if (/[\r\n]/.test(v)) throw new ControlError(400, `${name} must not contain a line break`);
  return v;
}

/** A contact sends a message with the given type, content type and body, sent as given. */
export function controlSendRaw(hub: MsnpHub, m: RawControlMessage): ControlSendResult {
  const sender = personOf(hub, m.from);
  const clientMessageId = m.clientMessageId ?? hub.newClientMessageId();
  const contentType =
    m.contentType ??
    (/^richtext/i.test(m.messageType) ? "application/user+xml" : "Text/plain; charset=UTF-8");
  const messaging: Array<[string, string]> = [
    ["Messaging", "2.0"],
    ["Client-Message-ID", headerValue("clientMessageId", clientMessageId)],
    ["Message-Type", headerValue("messageType", m.messageType)],
    ["IM-Display-Name", headerValue("displayName", m.displayName ?? sender.displayName)],
    ["Content-Type", headerValue("contentType", contentType)],
  ];
  const messageId = asControl(() =>
    deliver(hub, {
      sender,
      from: wireMri(hub, m.from, sender),
      to: m.to,
      messaging,
      body: Buffer.from(m.body, "utf8"),
    }),
  );
  return { messageId, clientMessageId };
}

/**
 * The stored message `messageId` of `owner`'s conversation `conversation` (a thread id, or the
 * other party by either identity), or undefined.
 */
export function findStored(
  hub: MsnpHub,
  owner: Person,
  conversation: string,
  messageId: number,
): { message: StoredMessage; conversation: string } | undefined {
  const want = conversation.trim();
  const other = want.startsWith("19:") ? undefined : hub.find(want);
  for (const [conv, list] of hub.history.conversationsOf(owner.key)) {
    const same =
      conv.toLowerCase() === want.toLowerCase() ||
      (other !== undefined && !conv.startsWith("19:") && hub.find(conv)?.key === other.key);
    if (!same) continue;
    const message = list.find((m) => m.id === messageId);
    if (message) return { message, conversation: conv };
  }
  return undefined;
}

/** A contact starts (or, with `stop`, clears) typing. */
export function controlTyping(hub: MsnpHub, fromId: string, to: string, stop = false): void {
  const sender = personOf(hub, fromId);
  asControl(() =>
    deliver(hub, {
      sender,
      from: wireMri(hub, fromId, sender),
      to,
      messaging: [
        ["Messaging", "2.0"],
        ["Message-Type", stop ? "Control/ClearTyping" : "Control/Typing"],
        ["IM-Display-Name", sender.displayName],
        ["Content-Type", "Application/Message"],
      ],
      body: Buffer.alloc(0),
    }),
  );
}

/** Sets a person's presence (`NLN`, `BSY`, `AWY`, `IDL`, `HDN`, …) or takes them `offline`. */
export function controlPresence(hub: MsnpHub, user: string, status: string, mood?: string): void {
  const p = personOf(hub, user);
  const s = status.trim().toUpperCase();
  const epid = controlEpid(p);
  if (s === "OFFLINE" || s === "FLN") hub.presence.removeEndpoint(p.key, epid);
  else if (STATUSES.has(s)) hub.presence.setControlled(p.key, epid, s, mood, p.skypename);
  else throw new ControlError(400, `unknown status ${status}`);
  announcePresence(hub, p, true);
}

/**
 * Drops a person's connections: at once (`afterFrames` absent or 0) or after that many more
 * client frames on each current connection (or on the next one, when none is signed in). With
 * `out` the server first sends `OUT 0 CON` with that reason; otherwise the socket is cut.
 */
export function controlDrop(hub: MsnpHub, user: string, plan: Partial<DropPlan>): { connections: number } {
  const p = personOf(hub, user);
  const conns = [...hub.connections].filter((c) => !c.closed && c.person?.key === p.key);
  const after = plan.afterFrames ?? 0;
  if (!Number.isInteger(after) || after < 0)
    throw new ControlError(400, "afterFrames must be an integer ≥ 0");
  if (plan.out !== undefined && plan.out !== "OTH" && plan.out !== "SSD")
    throw new ControlError(400, "out: OTH or SSD");
  for (const c of conns) {
    if (after > 0) c.planDrop({ afterFrames: after, out: plan.out });
    else if (plan.out) c.sendOut(plan.out);
    else c.destroy();
  }
  if (conns.length === 0 && after > 0) hub.pendingDrops.set(p.key, { afterFrames: after, out: plan.out });
  return { connections: conns.length };
}

/**
 * Cuts every open connection at once (an outage on the server's side: every client reconnects at
 * the same moment), with an `OUT` first when `out` is given. Returns how many were open.
 */
export function controlDropAll(hub: MsnpHub, out?: string): { connections: number } {
  if (out !== undefined && out !== "OTH" && out !== "SSD") throw new ControlError(400, "out: OTH or SSD");
  const conns = [...hub.connections].filter((c) => !c.closed);
  for (const c of conns) {
    if (out) c.sendOut(out);
    else c.destroy();
  }
  return { connections: conns.length };
}

/** Stored messages: of one person (optionally one conversation), or all when no user is given. */
export function storedMessages(hub: MsnpHub, user?: string, conversation?: string): StoredMessage[] {
  if (!user) {
    const all = hub.history.everything();
    return conversation ? all.filter((m) => m.to === conversation || m.from === conversation) : [...all];
  }
  const convs = hub.history.conversationsOf(personOf(hub, user).key);
  if (conversation !== undefined) return [...(convs.get(conversation) ?? [])];
  return [...convs.values()].flat().sort((a, b) => a.id - b.id);
}

/** SDGs the server received from clients (Control/* included), optionally of one person. */
export function receivedMessages(hub: MsnpHub, user?: string): ReceivedRecord[] {
  if (!user) return [...hub.received];
  const key = personOf(hub, user).key;
  return hub.received.filter((r) => r.user === key);
}

/** One connection as the control API shows it. */
export interface EndpointView {
  connection: number;
  remote: string;
  user?: string;
  identities: string[];
  epid?: string;
  bound: boolean;
  ready: boolean;
  subscriptions: { im: boolean; presence: boolean; conversations: boolean; partners: string[] };
  published: boolean;
  status?: string;
  contacts: string[];
  unacked: number;
  framesReceived: number;
}

/** Every open connection. */
export function endpointViews(hub: MsnpHub): EndpointView[] {
  return [...hub.connections]
    .filter((c) => !c.closed)
    .map((c) => ({
      connection: c.id,
      remote: c.remote,
      user: c.person?.key,
      identities: c.identities,
      epid: c.epid,
      bound: c.bound,
      ready: c.ready,
      subscriptions: { ...c.subs, partners: [...c.subs.partners] },
      published: c.published,
      status: c.person ? hub.presence.status(c.person.key) : undefined,
      contacts: [...c.contactList],
      unacked: c.bound ? hub.acks.pending(c.endpointKey).length : 0,
      framesReceived: c.framesReceived,
    }));
}
