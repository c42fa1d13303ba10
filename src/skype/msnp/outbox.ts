// SPDX-License-Identifier: Apache-2.0
/**
 * Outgoing messages until they are certainly delivered. A written `SDG` gets no reply, but the
 * server handles a connection's frames in order, so a reply to any later frame on the same
 * connection proves it was processed (an error reply to the `SDG` itself means it was refused).
 * Sends made while disconnected wait here; after a reconnect, messages whose fate is unknown are
 * looked up in the catch-up history by Client-Message-ID and re-sent only when absent.
 */
import { MsnpError, SkypeError, SkypeErrorCode } from "../errors.js";
import type { Frame } from "./framing.js";

/** Where a message stands. */
type EntryState = "queued" | "written" | "unknown";

/** One outgoing message. */
export interface OutboxEntry {
  readonly clientMessageId: string;
  readonly conversation: string;
  /** Builds the SDG body (the top block with the cookie is added when written). */
  readonly build: () => Buffer;
  state: EntryState;
  connectionId?: number;
  trid?: number;
  readonly resolve: () => void;
  readonly reject: (e: SkypeError) => void;
}

/** Writes one SDG and returns its TrID and connection id. */
export type SdgWriter = (body: Buffer) => { trid: number; connectionId: number };

/** The ordered queue of outgoing messages. */
export class Outbox {
  private entries: OutboxEntry[] = [];

  /** Adds a message; returns a promise settled when it is delivered or refused. */
  add(clientMessageId: string, conversation: string, build: () => Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.entries.push({ clientMessageId, conversation, build, state: "queued", resolve, reject });
    });
  }

  get size(): number {
    return this.entries.length;
  }

  /** True while some written message awaits proof of delivery. */
  get awaitingConfirmation(): boolean {
    return this.entries.some((e) => e.state === "written");
  }

  /** The highest TrID of a written, unconfirmed message on `connectionId` (0 when none). */
  lastWrittenTrid(connectionId: number): number {
    let max = 0;
    for (const e of this.entries)
      if (e.state === "written" && e.connectionId === connectionId && e.trid !== undefined)
        max = Math.max(max, e.trid);
    return max;
  }

  /** Writes every queued message in order. Messages of unknown fate block the ones behind them. */
  flush(write: SdgWriter): number {
    let n = 0;
    for (const e of this.entries) {
      if (e.state === "unknown") break;
      if (e.state !== "queued") continue;
      const { trid, connectionId } = write(e.build());
      e.state = "written";
      e.trid = trid;
      e.connectionId = connectionId;
      n++;
    }
    return n;
  }

  /** Handles a reply on `connectionId`: confirms earlier writes, or fails the SDG it answers. */
  onReply(connectionId: number, f: Frame): void {
    const code = /^\d{3}$/.test(f.command) ? Number(f.command) : 0;
    const keep: OutboxEntry[] = [];
    for (const e of this.entries) {
      if (e.state !== "written" || e.connectionId !== connectionId || e.trid === undefined) keep.push(e);
      else if (e.trid < f.trid) e.resolve();
      else if (e.trid === f.trid && code && code !== 715) {
        const reason = f.body.toString("utf8").trim().slice(0, 200) || "no reason given";
        e.reject(new MsnpError(code, `message refused with ${code}: ${reason}`, code >= 500));
      } else if (e.trid === f.trid && code === 715) {
        e.state = "queued"; // stale registration: certainly not delivered; send again
        keep.push(e);
      } else keep.push(e);
    }
    this.entries = keep;
  }

  /** The connection is gone: what was written there has an unknown fate. */
  onDisconnect(connectionId: number): void {
    for (const e of this.entries)
      if (e.state === "written" && e.connectionId === connectionId) e.state = "unknown";
  }

  /** Conversations holding messages of unknown fate (to include in catch-up). */
  unknownConversations(): Set<string> {
    return new Set(this.entries.filter((e) => e.state === "unknown").map((e) => e.conversation));
  }

  /**
   * After catch-up: messages found in history (by conversation and Client-Message-ID) are
   * delivered; the rest are queued again, keeping their order.
   */
  reconcile(found: (conversation: string, clientMessageId: string) => boolean): {
    delivered: number;
    resend: number;
  } {
    const keep: OutboxEntry[] = [];
    const counts = { delivered: 0, resend: 0 };
    for (const e of this.entries) {
      if (e.state !== "unknown") keep.push(e);
      else if (found(e.conversation, e.clientMessageId)) {
        counts.delivered++;
        e.resolve();
      } else {
        counts.resend++;
        e.state = "queued";
        keep.push(e);
      }
    }
    this.entries = keep;
    return counts;
  }

  /** Fails everything still pending (the client stopped). */
  rejectAll(reason: string): void {
    const err = new SkypeError(SkypeErrorCode.NotConnected, reason, false);
    for (const e of this.entries) e.reject(err);
    this.entries = [];
  }
}
