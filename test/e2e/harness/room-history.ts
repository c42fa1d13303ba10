// SPDX-License-Identifier: Apache-2.0
/**
 * Reading and writing a room the way the measurements need it: the room's history as the
 * homeserver stores it (`/messages`, paged from the start, never the client's sync timeline), and a
 * send that a real client would retry with the same transaction id while the homeserver is away
 * (so a retry can never post twice).
 */
import type { MatrixClient } from "@vector-im/matrix-bot-sdk";
import type { RoomEvent } from "./human.js";
import { waitFor } from "./util.js";

/** Every event of `roomId` in stored order, read with `/messages` forwards from the start. */
export async function roomHistory(
  client: MatrixClient,
  roomId: string,
  opts: { pageSize?: number; maxPages?: number } = {},
): Promise<RoomEvent[]> {
  const pageSize = opts.pageSize ?? 500;
  const maxPages = opts.maxPages ?? 200;
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`;
  const out: RoomEvent[] = [];
  let from: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const qs: Record<string, string | number> = { dir: "f", limit: pageSize };
    if (from) qs.from = from;
    const res = (await client.doRequest("GET", path, qs)) as {
      chunk?: Omit<RoomEvent, "room_id">[];
      end?: string;
    };
    const chunk = res.chunk ?? [];
    for (const e of chunk) out.push({ ...e, room_id: roomId });
    if (chunk.length === 0 || !res.end || res.end === from) return out;
    from = res.end;
  }
  throw new Error(`${roomId} has more than ${maxPages} pages of ${pageSize} events`);
}

/** Text messages (`m.room.message`, not edits) of a room's history, in stored order. */
export function textMessages(events: RoomEvent[]): RoomEvent[] {
  return events.filter((e) => {
    if (e.type !== "m.room.message") return false;
    const rel = e.content["m.relates_to"] as { rel_type?: string } | undefined;
    return rel?.rel_type !== "m.replace";
  });
}

export interface ReliableSend {
  eventId: string;
  /** Requests made (1 when the first one was answered). */
  attempts: number;
  /** When the homeserver first answered with an event id (ms since the epoch). */
  acceptedAt: number;
}

/**
 * Sends an `m.text` with a fixed transaction id, retrying the same PUT until the homeserver answers
 * (as a client does while its homeserver restarts). Bounded by `timeoutMs`.
 */
export async function sendTextReliably(
  client: MatrixClient,
  roomId: string,
  body: string,
  txnId: string,
  opts: { timeoutMs?: number; retryMs?: number } = {},
): Promise<ReliableSend> {
  const path =
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/` + encodeURIComponent(txnId);
  let attempts = 0;
  const eventId = await waitFor(
    async () => {
      attempts++;
      const res = (await client.doRequest("PUT", path, null, { msgtype: "m.text", body })) as {
        event_id?: string;
      };
      return res.event_id;
    },
    {
      timeoutMs: opts.timeoutMs ?? 120_000,
      intervalMs: opts.retryMs ?? 250,
      what: `"${body}" to be accepted`,
    },
  );
  return { eventId, attempts, acceptedAt: Date.now() };
}
