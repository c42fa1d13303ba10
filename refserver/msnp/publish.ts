// SPDX-License-Identifier: Apache-2.0
/**
 * State the client publishes (REFERENCE §5.2, §6; PROFILE §3, §5): `PUT MSGR\PRESENCE`,
 * `PUT/DEL MSGR\CONTACTS`, `PUT/DEL MSGR\SUBSCRIPTIONS`, and any other `PUT/DEL MSGR\…`, which is
 * accepted and ignored (be liberal). Replies have an empty body.
 */
import { ReplyError, type MsnpConnection } from "./connection.js";
import { getHeader, parseMmm, type Frame } from "./frame.js";
import type { MsnpHub } from "./hub.js";
import { isOwnIdentity, resendUnacked } from "./messaging.js";
import { announcePresence, sendAllPresence } from "./presence.js";
import { attrOf, child, childElements, parseXml, textOf, type XmlElement } from "./xml.js";

function bodyXml(frame: Frame, root: string): XmlElement {
  const text = frame.body.toString("utf8");
  if (!text.trim()) throw new ReplyError(201, `expected a <${root}> document`);
  const doc = parseXml(text);
  if (doc.name.toLowerCase() !== root.toLowerCase())
    throw new ReplyError(201, `expected a <${root}> document`);
  return doc;
}

/** `PUT MSGR\PRESENCE`: a `Publication` with a `<user>` document; `From` must be the user. */
export function handlePresence(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  const mmm = parseMmm(frame.body);
  if (!isOwnIdentity(conn, getHeader(mmm.routing, "From"))) {
    throw new ReplyError(201, "From is not one of the signed-in identities");
  }
  const src = mmm.body.toString("utf8");
  const user = parseXml(src);
  if (user.name.toLowerCase() !== "user") throw new ReplyError(201, "expected a <user> document");
  hub.presence.publish(conn.person!.key, conn.epid!, user, src);
  conn.published = true;
  conn.reply(frame);
  announcePresence(hub, conn.person!, true);
}

/** MRIs listed in an `<ml>` document (`<skp><c n t/>`, `<d n="domain"><c n t/>`, bare `<c>`). */
export function contactsOf(ml: XmlElement): string[] {
  const out: string[] = [];
  const add = (c: XmlElement, domain: string | undefined, defaultNet: string): void => {
    const n = (attrOf(c, "n") ?? "").trim();
    if (!n) return;
    if (/^\d+:/.test(n)) out.push(n);
    else out.push(`${attrOf(c, "t") ?? defaultNet}:${n}${domain ? `@${domain}` : ""}`);
  };
  for (const el of childElements(ml)) {
    const kind = el.name.toLowerCase();
    if (kind === "skp") for (const c of childElements(el, "c")) add(c, undefined, "8");
    else if (kind === "d") for (const c of childElements(el, "c")) add(c, attrOf(el, "n"), "1");
    else if (kind === "c") add(el, undefined, "8");
  }
  return out;
}

/** `PUT/DEL MSGR\CONTACTS`: the contact list this endpoint is interested in. */
export function handleContacts(_hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  const list = contactsOf(bodyXml(frame, "ml"));
  for (const mri of list) {
    if (frame.cmd === "DEL") conn.contactList.delete(mri);
    else conn.contactList.add(mri);
  }
  conn.reply(frame);
}

/**
 * `PUT/DEL MSGR\SUBSCRIPTIONS`. Subscriptions add up over PUTs. Turning on `<messaging><im/>`
 * re-sends what an earlier connection on this epid left unacknowledged; turning on `<presence>`
 * sends the presence of every visible contact.
 */
export function handleSubscriptions(hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  const doc = bodyXml(frame, "subscribe");
  const on = frame.cmd !== "DEL";
  const messaging = child(doc, "messaging");
  const before = { im: conn.subs.im, presence: conn.subs.presence };
  if (child(doc, "presence")) conn.subs.presence = on;
  if (child(messaging, "im")) conn.subs.im = on;
  if (child(messaging, "conversations")) conn.subs.conversations = on;
  for (const p of childElements(child(child(doc, "notifications"), "partners"), "partner")) {
    const name = textOf(p).toUpperCase();
    if (!name) continue;
    if (on) conn.subs.partners.add(name);
    else conn.subs.partners.delete(name);
  }
  conn.reply(frame);
  if (!before.im && conn.subs.im) resendUnacked(hub, conn);
  if (before.presence !== conn.subs.presence) sendAllPresence(hub, conn);
}

/** Any other `PUT/DEL MSGR\…` (activeendpoint, options, partners, …): accepted, nothing stored. */
export function handleOtherPut(_hub: MsnpHub, conn: MsnpConnection, frame: Frame): void {
  conn.reply(frame);
}
