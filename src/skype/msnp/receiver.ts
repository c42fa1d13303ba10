// SPDX-License-Identifier: Apache-2.0
/**
 * Turns received messages (live pushes or catch-up) into typed events, once each: duplicates are
 * recognised by Message-ID (and the conversation's cursor) or Client-Message-ID, never by text
 * (PROFILE §3 "Catch-up"). Keeps the per-conversation cursors.
 */
import { SkypeError } from "../errors.js";
import type { SkypeLogger } from "../log.js";
import { compareIds } from "./identity.js";
import { parseEmoteOffset, stripEmotePrefix, type RawMessage } from "./messages.js";
import { isMediaMessageType, readMediaContent } from "../media/uri-object.js";
import { parseThreadActivity } from "./threads.js";
import type { MessageEvent, MessageFormat, MessageMeta, MessageSource, MsnpClientEvents } from "./types.js";

/** Emits one client event (errors in listeners are the emitter's business). */
export type Emit = <K extends keyof MsnpClientEvents>(event: K, ...args: MsnpClientEvents[K]) => void;

/** A set that forgets its oldest members beyond `limit`. */
export class BoundedSet {
  private readonly items = new Set<string>();
  constructor(private readonly limit: number) {}

  has(v: string): boolean {
    return this.items.has(v);
  }

  add(v: string): void {
    this.items.delete(v);
    this.items.add(v);
    if (this.items.size > this.limit) {
      const oldest = this.items.values().next();
      if (!oldest.done) this.items.delete(oldest.value);
    }
  }
}

const key = (...parts: string[]): string => parts.join("\n");

/** Dedupes, tracks cursors and emits. */
export class Receiver {
  /** Last seen Message-ID per conversation. */
  readonly cursors = new Map<string, string>();
  /** The highest Message-ID seen anywhere. */
  lastMessageId?: string;
  private readonly seenIds = new BoundedSet(50_000);
  private readonly seenClientIds = new BoundedSet(50_000);
  private readonly ownSent = new BoundedSet(50_000);

  constructor(
    private readonly emit: Emit,
    private readonly logger: SkypeLogger,
  ) {}

  /** Merges caller-supplied cursors (keeping the newer of two). */
  mergeCursors(record: Record<string, string>): void {
    for (const [conv, id] of Object.entries(record)) {
      if (typeof id !== "string" || !/^\d{1,30}$/.test(id)) continue;
      const cur = this.cursors.get(conv);
      if (cur === undefined || compareIds(id, cur) > 0) this.cursors.set(conv, id);
      this.bumpLast(id);
    }
  }

  /** The highest cursor value: messages above it in unknown conversations were missed. */
  watermark(): string | undefined {
    let max: string | undefined;
    for (const id of this.cursors.values()) if (max === undefined || compareIds(id, max) > 0) max = id;
    return max;
  }

  /** Remembers a message this endpoint sent, so history copies of it are not reported. */
  rememberSent(conversation: string, clientMessageId: string): void {
    this.ownSent.add(key(conversation, clientMessageId));
  }

  /** True when this endpoint sent `clientMessageId` in `conversation`. */
  sentHere(conversation: string, clientMessageId: string): boolean {
    return this.ownSent.has(key(conversation, clientMessageId));
  }

  private bumpLast(id: string): void {
    if (this.lastMessageId === undefined || compareIds(id, this.lastMessageId) > 0) this.lastMessageId = id;
  }

  /** True when `m` was already delivered (or is this endpoint's own message). */
  isDuplicate(m: RawMessage): boolean {
    if (m.messageId !== undefined) {
      if (this.seenIds.has(key(m.conversation, m.messageId))) return true;
      const cursor = this.cursors.get(m.conversation);
      if (cursor !== undefined && compareIds(m.messageId, cursor) <= 0) return true;
    }
    if (m.clientMessageId !== undefined) {
      if (m.fromMe && this.sentHere(m.conversation, m.clientMessageId)) return true;
      // Some senders repeat the original Client-Message-ID on edits: only Message-IDs tell those apart.
      if (m.editedId === undefined && this.seenClientIds.has(this.clientKey(m))) return true;
    }
    return false;
  }

  /** Delivers `m` unless it is a duplicate; returns whether an event was emitted. */
  deliver(m: RawMessage, source: MessageSource): boolean {
    if (this.isDuplicate(m)) return false;
    if (m.messageId !== undefined) {
      this.seenIds.add(key(m.conversation, m.messageId));
      const cur = this.cursors.get(m.conversation);
      if (cur === undefined || compareIds(m.messageId, cur) > 0)
        this.cursors.set(m.conversation, m.messageId);
      this.bumpLast(m.messageId);
    }
    if (
      m.clientMessageId !== undefined &&
      m.editedId === undefined &&
      !m.messageType.toLowerCase().startsWith("control/")
    ) {
      this.seenClientIds.add(this.clientKey(m));
    }
    this.classify(m, source);
    return true;
  }

  private clientKey(m: RawMessage): string {
    return key(m.conversation, m.from.toLowerCase(), m.clientMessageId ?? "");
  }

  private meta(m: RawMessage, source: MessageSource): MessageMeta {
    const meta: MessageMeta = { conversation: m.conversation, sender: m.from, fromMe: m.fromMe, source };
    if (m.fromEpid !== undefined) meta.senderEpid = m.fromEpid;
    if (m.messageId !== undefined) {
      meta.messageId = m.messageId;
      meta.cursor = { conversation: m.conversation, messageId: m.messageId };
    }
    if (m.clientMessageId !== undefined) meta.clientMessageId = m.clientMessageId;
    if (m.arrivalTime !== undefined) meta.arrivalTime = m.arrivalTime;
    if (m.displayName !== undefined) meta.displayName = m.displayName;
    return meta;
  }

  private classify(m: RawMessage, source: MessageSource): void {
    const type = m.messageType.toLowerCase();
    if (type === "control/typing" || type === "control/cleartyping") {
      this.emit("typing", {
        conversation: m.conversation,
        sender: m.from,
        fromMe: m.fromMe,
        typing: type === "control/typing",
      });
      return;
    }
    if (type.startsWith("threadactivity/")) return this.threadActivity(m, source);
    const isText = type === "text";
    if (!isText && !type.startsWith("richtext")) {
      this.emit("unhandledMessage", {
        ...this.meta(m, source),
        messageType: m.messageType,
        contentType: m.contentType,
        body: m.content,
      });
      return;
    }
    const format: MessageFormat = isText ? "text" : "richtext";
    if (m.editedId !== undefined && m.content === "") {
      this.emit("delete", { ...this.meta(m, source), editedId: m.editedId });
      return;
    }
    const offset = parseEmoteOffset(m.emoteOffset);
    const body = offset !== undefined ? stripEmotePrefix(m.content, offset) : m.content;
    const fields: Pick<MessageEvent, "messageType" | "format" | "body" | "emote" | "media"> = {
      messageType: m.messageType,
      format,
      body,
      emote: offset !== undefined,
    };
    // Images and files (PROFILE §7.3): the URIObject is read here, once; a hostile body is an error value.
    if (isMediaMessageType(m.messageType)) fields.media = readMediaContent(m.content, m.messageType);
    if (m.editedId !== undefined)
      this.emit("edit", { ...this.meta(m, source), editedId: m.editedId, ...fields });
    else this.emit("message", { ...this.meta(m, source), ...fields });
  }

  private threadActivity(m: RawMessage, source: MessageSource): void {
    const activity = m.messageType.slice(m.messageType.indexOf("/") + 1);
    try {
      const parsed = parseThreadActivity(m.content);
      this.emit("threadActivity", { ...this.meta(m, source), activity, ...parsed });
    } catch (e) {
      const code = e instanceof SkypeError ? e.code : undefined;
      this.logger.warn("msnp: unreadable ThreadActivity body", { activity, code, error: String(e) });
      this.emit("unhandledMessage", { ...this.meta(m, source), messageType: m.messageType, body: m.content });
    }
  }
}
