// SPDX-License-Identifier: Apache-2.0
/**
 * Every id the bridge derives instead of drawing at random: Matrix transaction ids and Skype
 * Client-Message-IDs. Deterministic, so a replayed event (after a crash, or a transaction Synapse
 * re-sent) produces the same Skype message or the same Matrix event, which lets both sides
 * recognise the repeat.
 */
import { createHash } from "node:crypto";

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * The Skype `Client-Message-ID` of the message sent for Matrix event `eventId`: a decimal number
 * below 2^63 (a positive 64-bit integer, like the ids Skype clients generate), never 0.
 */
export function clientMessageIdFor(eventId: string): string {
  const n = digest(`skype-cmid\n${eventId}`).readBigUInt64BE(0) >> 1n;
  return (n === 0n ? 1n : n).toString();
}

/**
 * A Matrix transaction id for something the bridge posts because of event `eventId` (`purpose`
 * tells apart several posts for one event). Unique across rooms, users and purposes, URL-safe.
 */
export function matrixTxnIdFor(purpose: string, eventId: string): string {
  return `skype-m2s-${purpose}-${digest(`${purpose}\n${eventId}`).toString("hex").slice(0, 40)}`;
}

/**
 * A deterministic transaction id: the same Skype event always gives the same id, so a retry (or a
 * re-send after a crash) returns the first event instead of posting twice, and ids never collide
 * between puppets (Synapse keys appservice txn ids by path only, without `user_id`).
 */
export function txnIdFor(...parts: string[]): string {
  return "skype." + digest(parts.join("\u0000")).toString("hex").slice(0, 40);
}
