// SPDX-License-Identifier: Apache-2.0
/**
 * Presence pushes (PROFILE §3 "Presence", §5): `NFY 0 MSGR\PUT` with the full `<user>` document
 * to each connection that subscribed to presence and has the person as a contact (neither side
 * blocking the other); `NFY 0 MSGR\DEL` of an endpoint when it leaves or the person hides.
 */
import type { Person } from "../world.js";
import type { MsnpConnection } from "./connection.js";
import { encodeFrame, encodeMmm } from "./frame.js";
import type { MsnpHub } from "./hub.js";
import { braced, endpointGoneXml } from "./presence-store.js";

let notifNum = 0;

/** Whether `conn` may be told about `person`'s presence. */
export function canSee(conn: MsnpConnection, person: Person): boolean {
  const viewer = conn.person;
  if (!viewer || viewer.key === person.key || !conn.ready || !conn.subs.presence) return false;
  const related = viewer.contacts.has(person.key) || person.contacts.has(viewer.key);
  return related && !viewer.blocked.has(person.key) && !person.blocked.has(viewer.key);
}

function nfyFrame(kind: "PUT" | "DEL", to: string, from: string, notifType: string, doc: string): Buffer {
  const body = encodeMmm({
    routing: [
      ["Routing", "1.0"],
      ["To", to],
      ["From", from],
    ],
    reliability: [["Reliability", "1.0"]],
    content: [
      ["Notification", "1.0"],
      ["NotifNum", String(++notifNum)],
      ["Uri", "/user"],
      ["NotifType", notifType],
      ["Content-Type", "application/user+xml"],
    ],
    body: doc,
  });
  return encodeFrame("NFY", 0, `MSGR\\${kind}`, [], body);
}

/**
 * Brings `conn`'s view of `person` up to date: `DEL` for endpoints it knows that are gone (or
 * all, when the person is no longer visible to it), and the full document when `sendDoc` or when
 * the connection knew nothing of the person yet.
 */
export function syncPresenceTo(hub: MsnpHub, conn: MsnpConnection, person: Person, sendDoc: boolean): void {
  const viewer = conn.person;
  if (!viewer) return;
  const known = conn.knownPresence.get(person.key) ?? new Set<string>();
  const visible = canSee(conn, person) && hub.presence.visible(person.key);
  const current = new Set(visible ? hub.presence.endpoints(person.key) : []);
  const to = hub.world.primaryMri(viewer);
  const from = hub.world.primaryMri(person);
  for (const epid of [...known]) {
    if (current.has(epid)) continue;
    conn.write(nfyFrame("DEL", to, `${from};epid=${braced(epid)}`, "Partial", endpointGoneXml(epid)));
    known.delete(epid);
  }
  if (visible && (sendDoc || known.size === 0)) {
    conn.write(nfyFrame("PUT", to, from, "Full", hub.presence.document(person.key)));
    for (const e of current) known.add(e);
  }
  if (known.size) conn.knownPresence.set(person.key, known);
  else conn.knownPresence.delete(person.key);
  hub.noteKnown(conn, person.key, known.size > 0);
}

/**
 * Tells every connection concerned about a change of `person`'s presence: those of its contacts
 * (the only ones that may see it, {@link canSee}; contacts are mutual, World.makeContacts) and those
 * that were told its presence before (they may need a DEL).
 */
export function announcePresence(hub: MsnpHub, person: Person, sendDoc: boolean): void {
  const concerned = new Set<MsnpConnection>(hub.knowing(person.key));
  for (const key of person.contacts) for (const c of hub.connectionsOf(key)) concerned.add(c);
  for (const c of concerned) if (!c.closed) syncPresenceTo(hub, c, person, sendDoc);
}

/** Sends `conn` the presence of everyone it may see (after subscribing, or an address book change). */
export function sendAllPresence(hub: MsnpHub, conn: MsnpConnection): void {
  const viewer = conn.person;
  if (!viewer) return;
  // Contacts are mutual (World.makeContacts / removeContacts): the viewer's own list is everyone
  // who has the viewer in theirs.
  const keys = new Set<string>([...viewer.contacts, ...conn.knownPresence.keys()]);
  for (const key of keys) {
    const p = hub.world.people.get(key);
    if (p) syncPresenceTo(hub, conn, p, false);
  }
}

/** A stable server-side endpoint id for presence set through the control API. */
export function controlEpid(person: Person): string {
  const hex = Buffer.from(person.cid.padEnd(16, "0").slice(0, 16), "utf8").toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
