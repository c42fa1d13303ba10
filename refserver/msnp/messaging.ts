// SPDX-License-Identifier: Apache-2.0
/**
 * Messages (PROFILE §3 "Messages", §5; REFERENCE §7): client `SDG`, server pushes `SDG 0 MSGR`
 * with `Ack-Id` to every endpoint of the recipient (addressed by either identity) and the sender's
 * other endpoints, `ACK`, re-sending unacknowledged pushes after a reconnect on the same epid,
 * history, blocking, and the echo contact `8:echo123`.
 *
 * Echo: every `Text` or `RichText` message with a non-empty body and no `Skype-EditedId` sent to
 * `8:echo123` is answered by `8:echo123` with a message of the same `Message-Type`, `Content-Type`
 * and exactly the same body, addressed to the identity the sender wrote from.
 */
import type { Person } from "../world.js";
import { ReplyError, type MsnpConnection } from "./connection.js";
import {
  bareMri,
  encodeFrame,
  encodeMmm,
  getHeader,
  parseMmm,
  type Frame,
  type HeaderList,
} from "./frame.js";
import { isoSeconds, type StoredMessage } from "./history.js";
import type { MsnpHub, ReceivedRecord } from "./hub.js";
import { ThreadError } from "./threads.js";

/** The echo contact's identity. */
export const ECHO_MRI = "8:echo123";

/** A message to deliver, from a client or from the control API. */
export interface SendRequest {
  readonly sender: Person;
  /** `From` as on the wire (may carry `;epid=`). */
  readonly from: string;
  /** `To` as on the wire: an identity or a thread id. */
  readonly to: string;
  /** Routing headers besides `Routing`, `To`, `From`. */
  readonly routing?: HeaderList;
  readonly reliability?: HeaderList;
  /** The Messaging block (its `Content-Length` is recomputed). */
  readonly messaging: HeaderList;
  readonly body: Buffer;
  /** The sending connection, which gets no copy. */
  readonly origin?: MsnpConnection;
}

interface FanOut {
  readonly from: string;
  readonly to: string;
  readonly routing: HeaderList;
  readonly reliability: HeaderList;
  readonly messaging: HeaderList;
  readonly body: Buffer;
  readonly targets: readonly Person[];
  readonly exclude?: MsnpConnection;
  readonly owners: ReadonlyArray<{ owner: string; conversation: string }>;
  readonly sender: string;
}

const SERVER_HEADERS = new Set([
  "messaging",
  "message-id",
  "original-arrival-time",
  "content-length",
  "is-active",
]);

/** Whether `mri` is one of the identities the connection signed in with. */
export function isOwnIdentity(conn: MsnpConnection, mri: string | undefined): boolean {
  const bare = bareMri(mri ?? "").toLowerCase();
  return !!bare && conn.identities.some((i) => i.toLowerCase() === bare);
}

function unquote(v: string | undefined): string | undefined {
  return v === undefined ? undefined : v.replace(/^"(.*)"$/, "$1");
}

/** Stores (unless Control/*) and pushes one message; returns its Message-ID. */
function fanOut(hub: MsnpHub, f: FanOut): number {
  const now = Date.now();
  const id = hub.nextMessageId(now);
  const type = getHeader(f.messaging, "Message-Type") ?? "Text";
  const control = /^control\//i.test(type);
  const given = f.messaging[0];
  const first: [string, string] =
    given && given[0].toLowerCase() === "messaging" ? given : ["Messaging", "2.0"];
  const messaging: HeaderList = [
    first,
    ["Message-ID", String(id)],
    ...f.messaging.filter(([k]) => !SERVER_HEADERS.has(k.toLowerCase())),
    ["Original-Arrival-Time", isoSeconds(now)],
    ["Is-Active", "true"],
  ];
  const routing: HeaderList = [["Routing", "1.0"], ["To", f.to], ["From", f.from], ...f.routing];
  const mmm = encodeMmm({ routing, reliability: f.reliability, content: messaging, body: f.body });
  const keys = new Set(f.targets.map((p) => p.key));
  for (const c of [...keys].flatMap((k) => hub.connectionsOf(k))) {
    if (c === f.exclude || !c.canPush) continue;
    const ackId = hub.nextAckId();
    const frame = encodeFrame("SDG", 0, "MSGR", [["Ack-Id", ackId]], mmm);
    c.write(frame);
    if (!control) hub.acks.add(c.endpointKey, ackId, frame, hub.options.maxUnackedPerEndpoint);
  }
  if (!control) {
    const stored: StoredMessage = {
      id,
      arrival: now,
      from: bareMri(f.from),
      to: bareMri(f.to),
      messageType: type,
      contentType: getHeader(f.messaging, "Content-Type") ?? "",
      content: f.body.toString("utf8"),
      clientMessageId: getHeader(f.messaging, "Client-Message-ID"),
      imDisplayName: getHeader(f.messaging, "IM-Display-Name") ?? "",
      editedId: getHeader(f.messaging, "Skype-EditedId"),
      emoteOffset: unquote(getHeader(f.messaging, "Skype-EmoteOffset")),
      headers: messaging,
      sender: f.sender,
    };
    hub.history.add(stored, f.owners);
  }
  return id;
}

/**
 * Delivers a message. Throws ReplyError 217 for an unknown recipient, ThreadError 217/201 for an
 * unknown thread or a sender who is not a member. A recipient who blocked the sender gets nothing.
 */
export function deliver(hub: MsnpHub, req: SendRequest): number {
  const to = bareMri(req.to);
  const fromBare = bareMri(req.from);
  const base = {
    from: req.from,
    to: req.to,
    routing: req.routing ?? [],
    reliability: req.reliability ?? [["Reliability", "1.0"]],
    messaging: req.messaging,
    body: req.body,
    exclude: req.origin,
    sender: req.sender.key,
  };
  if (to.startsWith("19:")) {
    const thread = hub.threads.require(to);
    if (!thread.members.has(req.sender.key)) throw new ThreadError(201, "not a member of the thread");
    const targets = [...thread.members.keys()]
      .map((k) => hub.world.people.get(k))
      .filter((p): p is Person => !!p && (p === req.sender || !p.blocked.has(req.sender.key)));
    const owners = targets.map((p) => ({ owner: p.key, conversation: thread.id }));
    return fanOut(hub, { ...base, targets, owners });
  }
  const recipient = hub.find(to);
  if (!recipient || !/^\d+:/.test(to)) throw new ReplyError(217, "Recipient unknown");
  const blocked = recipient !== req.sender && recipient.blocked.has(req.sender.key);
  const targets = blocked ? [req.sender] : [req.sender, recipient];
  const owners = [{ owner: req.sender.key, conversation: to }];
  if (!blocked && recipient !== req.sender) owners.push({ owner: recipient.key, conversation: fromBare });
  const id = fanOut(hub, { ...base, targets, owners });
  if (!blocked && to.toLowerCase() === ECHO_MRI) scheduleEcho(hub, recipient, fromBare, req);
  return id;
}

function scheduleEcho(hub: MsnpHub, echo: Person, replyTo: string, req: SendRequest): void {
  const type = getHeader(req.messaging, "Message-Type") ?? "Text";
  if (!/^(text|richtext)$/i.test(type) || req.body.length === 0) return;
  if (getHeader(req.messaging, "Skype-EditedId") !== undefined) return;
  const contentType = getHeader(req.messaging, "Content-Type") ?? "Text/plain; charset=UTF-8";
  const body = Buffer.from(req.body);
  hub.later(0, () => {
    try {
      deliver(hub, {
        sender: echo,
        from: ECHO_MRI,
        to: replyTo,
        messaging: [
          ["Messaging", "2.0"],
          ["Client-Message-ID", hub.newClientMessageId()],
          ["Message-Type", type],
          ["IM-Display-Name", echo.displayName],
          ["Content-Type", contentType],
        ],
        body,
      });
    } catch (e) {
      hub.log.warn("msnp echo reply failed", { error: e instanceof Error ? e.message : String(e) });
    }
  });
}

/** Pushes a server-originated message (thread activity) to `targets`, storing it for each. */
export function deliverSystem(
  hub: MsnpHub,
  spec: { from: string; to: string; type: string; body: string; targets: readonly Person[] },
): number {
  return fanOut(hub, {
    from: spec.from,
    to: spec.to,
    routing: [],
    reliability: [["Reliability", "1.0"]],
    messaging: [
      ["Messaging", "2.0"],
      ["Client-Message-ID", hub.newClientMessageId()],
      ["Message-Type", spec.type],
      ["IM-Display-Name", ""],
      ["Content-Type", "text/xml; charset=UTF-8"],
    ],
    body: Buffer.from(spec.body, "utf8"),
    targets: spec.targets,
    owners: spec.targets.map((p) => ({ owner: p.key, conversation: spec.to })),
    sender: spec.from,
  });
}

/** `SDG n MSGR`: no reply on success (PROFILE §5). */
export function handleSdg(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  const person = conn.person!;
  const mmm = parseMmm(frame.body);
  if (mmm.contentKind.toLowerCase() !== "messaging") throw new ReplyError(201, "SDG needs a Messaging block");
  const to = getHeader(mmm.routing, "To");
  const from = getHeader(mmm.routing, "From");
  if (!to) throw new ReplyError(201, "Routing block has no To");
  if (!isOwnIdentity(conn, from)) throw new ReplyError(201, "From is not one of the signed-in identities");
  const record: ReceivedRecord = {
    at: Date.now(),
    user: person.key,
    epid: conn.epid,
    from: from!,
    to,
    messageType: getHeader(mmm.content, "Message-Type") ?? "Text",
    messaging: mmm.content,
    body: mmm.body.toString("utf8"),
  };
  hub.record(record);
  const routing = mmm.routing.filter(([k]) => !["routing", "to", "from"].includes(k.toLowerCase()));
  const id = deliver(hub, {
    sender: person,
    from: from!,
    to,
    routing,
    reliability: mmm.reliability.length ? mmm.reliability : undefined,
    messaging: mmm.content,
    body: mmm.body,
    origin: conn,
  });
  record.messageId = id;
}

/** `ACK n MSGR` with `Ack-Id`: forgets that push; no reply. */
export function handleAck(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  const ackId = getHeader(frame.headers, "Ack-Id");
  if (ackId) hub.acks.ack(conn.endpointKey, ackId);
}

/** Re-sends, with their original Ack-Ids, the pushes an earlier connection on this epid left unacknowledged. */
export function resendUnacked(hub: MsnpHub, conn: MsnpConnection): void {
  if (conn.resent || !conn.canPush) return;
  conn.resent = true;
  for (const [, frame] of hub.acks.pending(conn.endpointKey)) conn.write(frame);
}
