// SPDX-License-Identifier: Apache-2.0
/**
 * Contact presence from `NFY 0 MSGR\PUT` / `MSGR\DEL` (PROFILE §3 "Presence", §5; REFERENCE §6):
 * the `<user>` document gives the status; a contact with no endpoint left is offline.
 */
import { buildMultipart, type MultipartBody } from "./body.js";
import { presenceUserXml } from "./payloads.js";
import { bareMri, epidOf, normalizeEpid } from "./identity.js";
import type { PresenceEvent } from "./types.js";
import { child, childText, childrenNamed, findFirst, parseXml, type XmlElement } from "../xml.js";

/** What a `<user>` document says. */
export interface UserDocument {
  status?: string;
  mood?: string;
  epids: string[];
}

function service(user: XmlElement | undefined, tag: "s" | "sep", n: string): XmlElement[] {
  return childrenNamed(user, tag).filter((e) => (e.attrs.n ?? "").toUpperCase() === n);
}

/** Parses a `<user>` document (the root may be wrapped, e.g. in `<presence-response>`). */
export function parseUserDocument(xml: string): UserDocument {
  const doc = parseXml(xml);
  const user = findFirst(doc, "user");
  const im = service(user, "s", "IM")[0];
  const skp = service(user, "s", "SKP")[0];
  const epids = new Set<string>();
  for (const sep of childrenNamed(user, "sep")) if (sep.attrs.epid) epids.add(normalizeEpid(sep.attrs.epid));
  const out: UserDocument = { epids: [...epids] };
  const status = childText(im, "Status");
  if (status) out.status = status.toUpperCase();
  const mood = child(skp, "Mood");
  if (mood) out.mood = mood.text;
  return out;
}

/** Tracks each contact's endpoints and last status, and turns notifications into events. */
export class PresenceTracker {
  private readonly contacts = new Map<string, { epids: Set<string>; status: string; mood?: string }>();

  /**
   * Applies an `NFY MSGR\PUT` (`removed` false) or `NFY MSGR\DEL` (`removed` true).
   * Returns the event to emit, or undefined when the notification names nobody.
   * @throws ProtocolParseError when the `<user>` document is malformed.
   */
  apply(mm: MultipartBody, removed: boolean, isMe: (mri: string) => boolean): PresenceEvent | undefined {
    const fromFull = mm.routing.get("From");
    if (!fromFull) return undefined;
    const identity = bareMri(fromFull);
    const text = mm.body.toString("utf8").trim();
    const docu: UserDocument = text ? parseUserDocument(text) : { epids: [] };
    const fromEpid = epidOf(fromFull);
    const epids = docu.epids.length ? docu.epids : fromEpid ? [fromEpid] : [];
    const key = identity.toLowerCase();
    const entry = this.contacts.get(key) ?? { epids: new Set<string>(), status: "FLN" };
    if (removed) {
      if (epids.length) for (const e of epids) entry.epids.delete(e);
      else entry.epids.clear();
    } else {
      for (const e of epids) entry.epids.add(e);
      if (!epids.length) entry.epids.add("");
      // A full document without a status is a contact that went hidden (REFERENCE §6).
      entry.status = docu.status ?? "FLN";
      if (docu.mood !== undefined) entry.mood = docu.mood;
    }
    const online = entry.epids.size > 0 && entry.status !== "HDN";
    this.contacts.set(key, entry);
    const ev: PresenceEvent = {
      identity,
      status: online ? entry.status : "FLN",
      endpoints: entry.epids.size,
      self: isMe(identity),
    };
    if (entry.mood !== undefined) ev.mood = entry.mood;
    return ev;
  }

  /**
   * Forgets every contact's endpoints and status. Called at each login: the server sends a new
   * connection the full document of every visible contact once it subscribes to presence.
   */
  reset(): void {
    this.contacts.clear();
  }
}

/** The `PUT MSGR\\PRESENCE` body: routing to and from the user's `8:` identity and this epid. */
export function presenceBody(
  me: string,
  epid: string,
  status: string,
  mood: string,
  skypename: string,
): Buffer {
  return buildMultipart({
    routing: [
      ["Routing", "1.0"],
      ["To", me],
      ["From", `${me};epid={${epid}}`],
    ],
    content: [
      ["Publication", "1.0"],
      ["Uri", "/user"],
      ["Content-Type", "application/user+xml"],
    ],
    body: presenceUserXml(epid, status, mood, skypename),
  });
}
