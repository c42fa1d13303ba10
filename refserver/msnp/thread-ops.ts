// SPDX-License-Identifier: Apache-2.0
/**
 * Thread operations (PROFILE §5 "Thread creation", REFERENCE §5.2, §8.3), shared by the
 * `PUT/DEL MSGR\THREAD` handlers and the control API. Order on creation: `NFY 0 MSGR\THREAD` to
 * every member, then `ThreadActivity/AddMember` for every initial member (creator first), then
 * `TopicUpdate` if a topic was given; the caller sends the `PUT` reply last. Any member may add
 * members (as `user`) or set the topic; only admins add admins, change roles or remove others;
 * anyone may leave. `217` = unknown thread or member, `201` = not permitted.
 */
import type { Person } from "../world.js";
import type { MsnpConnection } from "./connection.js";
import { encodeFrame } from "./frame.js";
import type { MsnpHub } from "./hub.js";
import { deliverSystem } from "./messaging.js";
import {
  memberActivityXml,
  parseRole,
  roleActivityXml,
  ThreadError,
  threadXml,
  topicActivityXml,
  type Thread,
  type ThreadRole,
} from "./threads.js";

/** Who does it: the person, the identity they act as, and their connection (if any). */
export interface ThreadActor {
  readonly person: Person;
  readonly mri: string;
  readonly conn?: MsnpConnection;
}

/** A member as requested: an identity and an optional role. */
export interface MemberSpec {
  readonly mri: string;
  readonly role?: string;
}

interface Resolved {
  readonly person: Person;
  readonly mri: string;
  readonly role?: ThreadRole;
}

function resolve(hub: MsnpHub, specs: readonly MemberSpec[]): Resolved[] {
  return specs.map((s) => {
    const mri = s.mri.trim();
    const person = /^\d+:/.test(mri) ? hub.find(mri) : undefined;
    if (!person) throw new ThreadError(217, `unknown member ${mri}`);
    return { person, mri, role: s.role === undefined ? undefined : parseRole(s.role) };
  });
}

function people(hub: MsnpHub, keys: Iterable<string>): Person[] {
  return [...keys].map((k) => hub.world.people.get(k)).filter((p): p is Person => !!p);
}

/** `NFY 0 MSGR\THREAD` with the thread document to `targets` (the actor's own connection always). */
function notifyThread(hub: MsnpHub, t: Thread, targets: readonly Person[], actor: ThreadActor): void {
  const keys = new Set(targets.map((p) => p.key));
  const frame = encodeFrame("NFY", 0, "MSGR\\THREAD", [], threadXml(t));
  for (const c of [...keys].flatMap((k) => hub.connectionsOf(k))) {
    if (!c.ready) continue;
    if (c.canPush || c === actor.conn) c.write(frame);
  }
}

function activity(
  hub: MsnpHub,
  t: Thread,
  actor: ThreadActor,
  type: string,
  body: string,
  to: readonly Person[],
) {
  const from = hub.options.threadActivityFrom === "thread" ? t.id : actor.mri;
  deliverSystem(hub, { from, to: t.id, type: `ThreadActivity/${type}`, body, targets: to });
}

function memberOf(t: Thread, actor: ThreadActor) {
  const m = t.members.get(actor.person.key);
  if (!m) throw new ThreadError(201, "not a member of the thread");
  return m;
}

/** Creates a thread with the actor as admin plus `members`, and an optional topic. */
export function createThread(
  hub: MsnpHub,
  actor: ThreadActor,
  members: readonly MemberSpec[],
  topic?: string,
) {
  const resolved = resolve(hub, members);
  const now = Date.now();
  const own = resolved.find((r) => r.person === actor.person);
  const t = hub.threads.create(own?.mri ?? actor.mri, now);
  t.members.set(actor.person.key, { key: actor.person.key, mri: own?.mri ?? actor.mri, role: "admin" });
  for (const r of resolved) {
    if (!t.members.has(r.person.key))
      t.members.set(r.person.key, { key: r.person.key, mri: r.mri, role: r.role ?? "user" });
  }
  if (topic !== undefined) t.topic = topic;
  const all = people(hub, t.members.keys());
  notifyThread(hub, t, all, actor);
  for (const m of t.members.values()) {
    activity(hub, t, actor, "AddMember", memberActivityXml("addmember", now, t.creator, m.mri), all);
  }
  if (topic !== undefined && topic !== "") {
    activity(hub, t, actor, "TopicUpdate", topicActivityXml(now, t.creator, topic), all);
  }
  hub.log.info("msnp thread created", { thread: t.id, members: t.members.size });
  return t;
}

/** Adds members, changes roles and/or sets the topic of a thread. */
export function updateThread(
  hub: MsnpHub,
  actor: ThreadActor,
  id: string,
  members: readonly MemberSpec[],
  topic?: string,
): Thread {
  const t = hub.threads.require(id);
  const me = memberOf(t, actor);
  const resolved = resolve(hub, members);
  const adds: Resolved[] = [];
  const roles: Array<{ key: string; mri: string; role: ThreadRole }> = [];
  for (const r of resolved) {
    const existing = t.members.get(r.person.key);
    if (existing) {
      if (r.role === undefined || r.role === existing.role) continue;
      if (me.role !== "admin") throw new ThreadError(201, "only admins change roles");
      roles.push({ key: existing.key, mri: existing.mri, role: r.role });
    } else {
      if (r.role === "admin" && me.role !== "admin") throw new ThreadError(201, "only admins add admins");
      if (!adds.some((a) => a.person === r.person)) adds.push(r);
    }
  }
  for (const a of adds)
    t.members.set(a.person.key, { key: a.person.key, mri: a.mri, role: a.role ?? "user" });
  for (const r of roles) t.members.get(r.key)!.role = r.role;
  if (topic !== undefined) t.topic = topic;
  const all = people(hub, t.members.keys());
  const now = Date.now();
  notifyThread(hub, t, all, actor);
  for (const a of adds)
    activity(hub, t, actor, "AddMember", memberActivityXml("addmember", now, actor.mri, a.mri), all);
  for (const r of roles)
    activity(hub, t, actor, "RoleUpdate", roleActivityXml(now, actor.mri, r.mri, r.role), all);
  if (topic !== undefined)
    activity(hub, t, actor, "TopicUpdate", topicActivityXml(now, actor.mri, topic), all);
  return t;
}

/** Removes members (kick) or the actor themself (leave). */
export function removeMembers(hub: MsnpHub, actor: ThreadActor, id: string, mris: readonly string[]): Thread {
  const t = hub.threads.require(id);
  const me = memberOf(t, actor);
  if (mris.length === 0) throw new ThreadError(201, "no member given");
  const targets = resolve(
    hub,
    mris.map((mri) => ({ mri })),
  ).map((r) => {
    const m = t.members.get(r.person.key);
    if (!m) throw new ThreadError(217, `${r.mri} is not a member of the thread`);
    if (r.person !== actor.person && me.role !== "admin")
      throw new ThreadError(201, "only admins remove others");
    return m;
  });
  const before = people(hub, t.members.keys());
  for (const m of targets) t.members.delete(m.key);
  const now = Date.now();
  notifyThread(hub, t, before, actor);
  for (const m of targets) {
    activity(hub, t, actor, "DeleteMember", memberActivityXml("deletemember", now, actor.mri, m.mri), before);
  }
  return t;
}
