// SPDX-License-Identifier: Apache-2.0
/**
 * Ids the Matrix → Skype direction derives from Matrix event ids. Deterministic, so a replayed event
 * (after a crash, or a transaction Synapse re-sent) produces the same Skype message and the same
 * Matrix notice, which lets both sides recognise the repeat.
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
