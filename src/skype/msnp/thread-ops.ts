// SPDX-License-Identifier: Apache-2.0
/**
 * Group threads (PROFILE §3 "Groups", §5 "Thread creation"; REFERENCE §5.2, §8.3):
 * `PUT/DEL MSGR\THREAD`, `GET MSGR\THREADS`. A new thread's id comes from the `NFY MSGR\THREAD`
 * the server sends before its `PUT` reply.
 */
import { ProtocolParseError, SkypeError, SkypeErrorCode } from "../errors.js";
import { bodyText } from "./framing.js";
import { parseRecentConversations } from "./history.js";
import { bareMri, isThreadId, sameMri, type SelfIdentity } from "./identity.js";
import {
  recentConversationsXml,
  threadCreateXml,
  threadMembersXml,
  threadTopicXml,
  threadsXml,
  type ThreadMemberSpec,
} from "./payloads.js";
import type { Session } from "./session.js";
import { parseThreads } from "./threads.js";
import type { ThreadInfo, ThreadRole } from "./types.js";

interface CreateWaiter {
  before: Set<string>;
  found: ThreadInfo[];
}

function checkThreadId(id: string): void {
  if (!isThreadId(id))
    throw new SkypeError(SkypeErrorCode.InvalidArgument, "not a thread id (19:…@thread.skype)", false);
}

function checkMri(mri: string): void {
  if (!/^\d+:[^\s;<>&]+$/.test(bareMri(mri))) {
    throw new SkypeError(SkypeErrorCode.InvalidArgument, "a member must be an MRI such as 8:name", false);
  }
}

/**
 * Thread operations. Every method does network I/O on the live connection and
 * @throws SkypeError `SKYPE_NOT_CONNECTED` when offline, `SKYPE_INVALID_ARGUMENT` for bad ids,
 *   MsnpError (217 unknown thread or member, 201 not permitted, …) when the server refuses.
 */
export class ThreadOps {
  private readonly known = new Set<string>();
  private waiter?: CreateWaiter;
  private createChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly session: () => Session,
    private readonly self: SelfIdentity,
  ) {}

  /** Records a thread seen in a notification, a message or the recent list. */
  noteThread(t: ThreadInfo): void {
    if (this.waiter && !this.waiter.before.has(t.id) && t.members.length > 0) this.waiter.found.push(t);
    this.known.add(t.id);
  }

  /**
   * Creates a thread with the user as admin and `members` as users, optionally with a topic.
   * Resolves with the new thread as announced by the server.
   */
  create(members: string[], topic?: string): Promise<ThreadInfo> {
    members.forEach(checkMri);
    const run = this.createChain.then(() => this.createNow(members, topic));
    this.createChain = run.catch(() => undefined);
    return run;
  }

  private async createNow(members: string[], topic?: string): Promise<ThreadInfo> {
    const s = this.session();
    const spec: ThreadMemberSpec[] = [{ mri: this.self.skype, role: "admin" }];
    for (const m of members) if (!this.self.isMe(m)) spec.push({ mri: bareMri(m), role: "user" });
    const waiter: CreateWaiter = { before: new Set(this.known), found: [] };
    this.waiter = waiter;
    try {
      await s.request("PUT", "MSGR\\THREAD", threadCreateXml(spec, topic));
    } finally {
      this.waiter = undefined;
    }
    const wanted = spec.map((m) => m.mri);
    const exact = waiter.found.find(
      (t) =>
        t.members.length === wanted.length && wanted.every((w) => t.members.some((m) => sameMri(m.mri, w))),
    );
    const found = exact ?? waiter.found[0];
    if (!found)
      throw new ProtocolParseError(SkypeErrorCode.Parse, "the server did not announce the new thread");
    return found;
  }

  /** Adds members (role `user` unless given). */
  async addMembers(threadId: string, mris: string[], role: ThreadRole = "user"): Promise<void> {
    checkThreadId(threadId);
    mris.forEach(checkMri);
    const xml = threadMembersXml(
      threadId,
      mris.map((mri) => ({ mri, role })),
    );
    await this.session().request("PUT", "MSGR\\THREAD", xml);
  }

  /** Removes a member (only admins may remove others). */
  async removeMember(threadId: string, mri: string): Promise<void> {
    checkThreadId(threadId);
    checkMri(mri);
    await this.session().request("DEL", "MSGR\\THREAD", threadMembersXml(threadId, [{ mri }]));
  }

  /** Leaves the thread. */
  leave(threadId: string): Promise<void> {
    return this.removeMember(threadId, this.self.skype);
  }

  /** Changes a member's role (admins only). */
  async setRole(threadId: string, mri: string, role: ThreadRole): Promise<void> {
    checkThreadId(threadId);
    checkMri(mri);
    await this.session().request("PUT", "MSGR\\THREAD", threadMembersXml(threadId, [{ mri, role }]));
  }

  /** Sets the topic. */
  async setTopic(threadId: string, topic: string): Promise<void> {
    checkThreadId(threadId);
    await this.session().request("PUT", "MSGR\\THREAD", threadTopicXml(threadId, topic));
  }

  /**
   * Reads threads with `GET MSGR\THREADS`: the given ids, or every thread the client knows of
   * plus those in the recent-conversations list.
   */
  async list(ids?: string[]): Promise<ThreadInfo[]> {
    ids?.forEach(checkThreadId);
    const s = this.session();
    let wanted = ids;
    if (!wanted) {
      const recent = await s.request("GET", "MSGR\\RECENTCONVERSATIONS", recentConversationsXml());
      const set = new Set(this.known);
      for (const r of parseRecentConversations(bodyText(recent))) if (isThreadId(r.id)) set.add(r.id);
      wanted = [...set];
    }
    if (wanted.length === 0) return [];
    const reply = await s.request("GET", "MSGR\\THREADS", threadsXml(wanted));
    const threads = parseThreads(bodyText(reply));
    for (const t of threads) this.known.add(t.id);
    return threads;
  }
}
