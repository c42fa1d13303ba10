// SPDX-License-Identifier: Apache-2.0
/**
 * Catch-up after a (re)connect (PROFILE §3 "Catch-up", §5 "History"): for each conversation,
 * `GET MSGR\MESSAGESBYCONVERSATION` from its last seen Message-ID, following
 * `messagessyncstate` while `hasmore`; the result is returned oldest first.
 */
import type { SkypeLogger } from "../log.js";
import type { Frame } from "./framing.js";
import { bodyText } from "./framing.js";
import { parseHistoryPage, type RecentConversation } from "./history.js";
import { compareIds, type SelfIdentity } from "./identity.js";
import type { RawMessage } from "./messages.js";
import { messagesByConversationXml } from "./payloads.js";

/** What catch-up needs from the client. */
export interface CatchUpDeps {
  /** Sends `GET <type>` with `body` and awaits the reply. */
  get(type: string, body: string): Promise<Frame>;
  self: SelfIdentity;
  pageSize: number;
  logger: SkypeLogger;
}

/** The inputs deciding which conversations to read, and from where. */
export interface CatchUpPlanInput {
  cursors: ReadonlyMap<string, string>;
  /** Highest Message-ID seen before this reconnect; undefined on a first start (no back-fill). */
  watermark?: string;
  recent: readonly RecentConversation[];
  /** Conversations holding messages of unknown fate: always read. */
  mustRead: ReadonlySet<string>;
}

const MAX_PAGES = 1000;
const PARALLEL = 4;

/** Conversation → start Message-ID. Skips conversations whose newest message is already seen. */
export function planCatchUp(input: CatchUpPlanInput): Map<string, string> {
  const recent = new Map(input.recent.map((r) => [r.id, r.lastMessageId]));
  const plan = new Map<string, string>();
  for (const [conv, cursor] of input.cursors) {
    const last = recent.get(conv);
    if (last !== undefined && compareIds(last, cursor) <= 0 && !input.mustRead.has(conv)) continue;
    plan.set(conv, cursor);
  }
  if (input.watermark !== undefined) {
    for (const r of input.recent) {
      if (plan.has(r.id) || input.cursors.has(r.id)) continue;
      if (r.lastMessageId !== undefined && compareIds(r.lastMessageId, input.watermark) <= 0) continue;
      plan.set(r.id, input.watermark);
    }
  }
  for (const conv of input.mustRead) {
    if (!plan.has(conv)) plan.set(conv, input.cursors.get(conv) ?? input.watermark ?? "0");
  }
  return plan;
}

/**
 * Reads one conversation from `start` (inclusive), all pages; with `limit`, only its newest `limit`
 * messages (pages come newest first).
 */
export async function readConversation(
  deps: CatchUpDeps,
  conversation: string,
  start: string,
  limit?: number,
): Promise<RawMessage[]> {
  const out: RawMessage[] = [];
  let sync: string | undefined;
  const pageSize = limit === undefined ? deps.pageSize : Math.min(deps.pageSize, limit);
  for (let page = 0; page < MAX_PAGES; page++) {
    const reply = await deps.get(
      "MSGR\\MESSAGESBYCONVERSATION",
      messagesByConversationXml(conversation, start, sync, pageSize),
    );
    const p = parseHistoryPage(bodyText(reply), conversation, deps.self);
    let older = false;
    for (const m of p.messages) {
      if (m.messageId !== undefined && compareIds(m.messageId, start) < 0) older = true;
      else out.push(m);
    }
    if (limit !== undefined && out.length >= limit) return out.slice(0, limit);
    if (!p.hasMore || p.syncState === undefined || p.syncState === sync || older) break;
    sync = p.syncState;
  }
  return out;
}

/**
 * The conversations a first link reads back: the `count` most recent ones (by their newest
 * Message-ID, as RECENTCONVERSATIONS lists them) that have no cursor yet.
 */
export function planHistory(
  recent: readonly RecentConversation[],
  cursors: ReadonlyMap<string, string>,
  count: number,
): string[] {
  const listed = recent.filter((r) => !cursors.has(r.id));
  const newestFirst = [...listed].sort((a, b) => {
    if (a.lastMessageId === undefined || b.lastMessageId === undefined)
      return a.lastMessageId === undefined ? (b.lastMessageId === undefined ? 0 : 1) : -1;
    return compareIds(b.lastMessageId, a.lastMessageId);
  });
  return [...new Set(newestFirst.map((r) => r.id))].slice(0, Math.max(0, count));
}

/** Sorts oldest first by Message-ID; messages without one keep their place at the end. */
export function chronological(messages: RawMessage[]): RawMessage[] {
  const withId = messages.filter((m) => m.messageId !== undefined);
  const without = messages.filter((m) => m.messageId === undefined);
  withId.sort((a, b) => compareIds(a.messageId!, b.messageId!));
  return [...withId, ...without];
}

/**
 * Reads every planned conversation (a few at a time) and returns all messages, oldest first.
 * A conversation that fails is passed to `onError`, which may rethrow to abort everything. With
 * `limit`, only the newest `limit` messages of each conversation are read.
 */
export async function runCatchUp(
  deps: CatchUpDeps,
  plan: Map<string, string>,
  onError: (conversation: string, error: unknown) => void = (_c, e) => {
    throw e;
  },
  limit?: number,
): Promise<RawMessage[]> {
  const jobs = [...plan];
  const all: RawMessage[] = [];
  const worker = async (): Promise<void> => {
    for (let job = jobs.shift(); job; job = jobs.shift()) {
      const [conv, start] = job;
      try {
        all.push(...(await readConversation(deps, conv, start, limit)));
      } catch (e) {
        onError(conv, e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, jobs.length) }, () => worker()));
  deps.logger.debug("msnp catch-up read", { conversations: plan.size, messages: all.length });
  return chronological(all);
}
