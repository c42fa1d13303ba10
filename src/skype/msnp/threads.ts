// SPDX-License-Identifier: Apache-2.0
/**
 * Thread documents (`NFY MSGR\THREAD`, `GET MSGR\THREADS` replies) and `ThreadActivity/*`
 * message bodies (REFERENCE §5.2, §8.3).
 */
import type { ThreadInfo, ThreadMember } from "./types.js";
import { bareMri } from "./identity.js";
import { child, childText, childrenNamed, findAll, findFirst, parseXml, type XmlElement } from "../xml.js";

function memberOf(el: XmlElement): ThreadMember | undefined {
  const mri =
    childText(el, "mri") ?? childText(el, "id") ?? (el.children.length === 0 ? el.text.trim() : undefined);
  if (!mri) return undefined;
  const role = childText(el, "role");
  return role ? { mri: bareMri(mri), role: role.toLowerCase() } : { mri: bareMri(mri) };
}

/** Reads one `<thread>` element. Returns undefined without an id. */
export function threadFromXml(el: XmlElement): ThreadInfo | undefined {
  const id = childText(el, "id");
  if (!id) return undefined;
  const members = childrenNamed(child(el, "members"), "member")
    .map(memberOf)
    .filter((m): m is ThreadMember => m !== undefined);
  const props = child(el, "properties");
  const info: ThreadInfo = { id, members };
  const topic = child(props, "topic") ?? child(el, "topic");
  if (topic) info.topic = topic.text;
  const creator = childText(props, "creator");
  if (creator) info.creator = bareMri(creator);
  return info;
}

/** Every `<thread>` with an id in a document (an `NFY` body or a `threads-response`). */
export function parseThreads(xml: string): ThreadInfo[] {
  return findAll(parseXml(xml), "thread")
    .map(threadFromXml)
    .filter((t): t is ThreadInfo => t !== undefined);
}

/** The parsed XML body of a `ThreadActivity/*` message. */
export interface ThreadActivityBody {
  eventTime?: string;
  initiator?: string;
  targets: ThreadMember[];
  value?: string;
}

/** Parses a `ThreadActivity/*` body; tolerant of single or repeated `<target>` elements. */
export function parseThreadActivity(xml: string): ThreadActivityBody {
  const doc = parseXml(xml);
  const root = doc.children[0];
  const targets = childrenNamed(root, "target")
    .map(memberOf)
    .filter((m): m is ThreadMember => m !== undefined);
  const out: ThreadActivityBody = { targets };
  const eventTime = childText(root, "eventtime");
  if (eventTime) out.eventTime = eventTime;
  const initiator = childText(root, "initiator");
  if (initiator) out.initiator = bareMri(initiator);
  const value = child(root, "value") ?? findFirst(root, "topic");
  if (value) out.value = value.text;
  return out;
}
