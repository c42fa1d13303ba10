// SPDX-License-Identifier: Apache-2.0
/**
 * Group threads `19:<32 hex>@thread.skype` (PROFILE §3 "Groups", REFERENCE §5.2, §8.3): the
 * store, the `<thread>` document and the `ThreadActivity/*` bodies.
 */
import { randomBytes } from "node:crypto";
import { tag } from "./xml.js";

/** Thread roles as on the wire. */
export type ThreadRole = "admin" | "user";

/** A member of a thread. */
export interface ThreadMember {
  /** The person's world key. */
  readonly key: string;
  /** The identity the member was added as (as on the wire). */
  readonly mri: string;
  role: ThreadRole;
}

/** A group thread. */
export interface Thread {
  readonly id: string;
  /** MRI of the creator. */
  readonly creator: string;
  topic: string;
  /** person key → member, in the order they joined. */
  readonly members: Map<string, ThreadMember>;
  readonly createdAt: number;
}

/** Thread ids look like `19:0123…cdef@thread.skype` (32 lower-case hex digits). */
export const THREAD_ID = /^19:[0-9a-f]{32}@thread\.skype$/;

/** A refused thread operation: `217` unknown thread or member, `201` not permitted / bad input. */
export class ThreadError extends Error {
  override readonly name = "ThreadError";
  constructor(
    readonly code: 201 | 217,
    message: string,
  ) {
    super(message);
  }
}

/** Accepts `admin`, `user` and (liberally) `member`, any case; absent means `user`. */
export function parseRole(s: string | undefined): ThreadRole {
  const v = (s ?? "").trim().toLowerCase();
  if (v === "" || v === "user" || v === "member") return "user";
  if (v === "admin") return "admin";
  throw new ThreadError(201, `unknown role ${JSON.stringify(s)}`);
}

/** Every thread, by id (ids compare case-insensitively). */
export class ThreadStore {
  private readonly threads = new Map<string, Thread>();

  create(creator: string, now: number): Thread {
    let id: string;
    do id = `19:${randomBytes(16).toString("hex")}@thread.skype`;
    while (this.threads.has(id));
    const t: Thread = { id, creator, topic: "", members: new Map(), createdAt: now };
    this.threads.set(id, t);
    return t;
  }

  get(id: string): Thread | undefined {
    return this.threads.get(id.trim().toLowerCase());
  }

  /** The thread, or ThreadError 217. */
  require(id: string): Thread {
    const t = this.get(id);
    if (!t) throw new ThreadError(217, "unknown thread");
    return t;
  }

  /** Every thread, oldest first. */
  list(): Thread[] {
    return [...this.threads.values()];
  }
}

/** The `<thread>` document of `NFY 0 MSGR\THREAD`, `GET MSGR\THREADS` and recent conversations. */
export function threadXml(t: Thread): string {
  const members = [...t.members.values()]
    .map((m) => `<member>${tag("mri", m.mri)}${tag("role", m.role)}</member>`)
    .join("");
  return (
    `<thread>${tag("id", t.id)}<members>${members}</members>` +
    `<properties>${tag("topic", t.topic)}${tag("creator", t.creator)}</properties></thread>`
  );
}

/** Body of `ThreadActivity/AddMember` or `/DeleteMember`. */
export function memberActivityXml(
  kind: "addmember" | "deletemember",
  at: number,
  initiator: string,
  target: string,
) {
  return `<${kind}>${tag("eventtime", at)}${tag("initiator", initiator)}${tag("target", target)}</${kind}>`;
}

/** Body of `ThreadActivity/TopicUpdate`. */
export function topicActivityXml(at: number, initiator: string, value: string): string {
  return `<topicupdate>${tag("eventtime", at)}${tag("initiator", initiator)}${tag("value", value)}</topicupdate>`;
}

/** Body of `ThreadActivity/RoleUpdate`. */
export function roleActivityXml(at: number, initiator: string, target: string, role: ThreadRole): string {
  return (
    `<roleupdate>${tag("eventtime", at)}${tag("initiator", initiator)}` +
    `<target>${tag("id", target)}${tag("role", role)}</target></roleupdate>`
  );
}
