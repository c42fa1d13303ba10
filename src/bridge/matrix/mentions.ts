// SPDX-License-Identifier: Apache-2.0
/**
 * When an event's empty `m.mentions` can be left out.
 *
 * `m.mentions: {}` (intentional mentions, MSC3952) says "nobody is mentioned": with it, the legacy
 * push rules that look at the body (`.m.rule.contains_display_name`, `.m.rule.contains_user_name`,
 * `.m.rule.roomnotif`) do not apply. Synapse pays for the key: it validates every new event's
 * `m.mentions` with `jsonschema.validate`, which checks the schema itself again on each call
 * (synapse/events/validator.py, 1.163). On the bench machine that is ~1.3 ms of the homeserver's
 * CPU per bridged message, a third of its work for the `PUT`, and ~3 ms of Skype → Matrix latency
 * (BENCHMARKS.md, cause 6).
 *
 * Worked around here: the key is left out when those rules could not match anyway, for anyone who
 * may see the event — the body contains neither "@room" nor the display name or localpart of any
 * joined or invited member that is not one of the bridge's own users (the homeserver never pushes
 * to appservice users). Case-insensitive substring matching is a superset of the rules' word
 * match, so notifications and highlights come out the same. Not covered: someone who joins, or
 * takes a new name, after the message was sent sees it as a client would evaluate any message
 * without `m.mentions`; and a member's change that the appservice has not been told of yet.
 *
 * What is known of a room's members is dropped at each membership event the appservice sees there
 * (but those of the bridge's own users), and read again after {@link MEMBERS_TTL_MS}. When they
 * cannot be read, the key stays.
 */

/** How long a room's member names are trusted without a membership event. */
export const MEMBERS_TTL_MS = 15 * 60_000;
/** How long a failure to read them stands (the key is kept meanwhile). */
export const MEMBERS_RETRY_MS = 60_000;
/** Rooms remembered at most (the oldest are forgotten first). */
export const MEMBERS_ROOMS_MAX = 20_000;

/** A member as the room's state has it. */
export interface RoomMemberName {
  userId: string;
  membership: string;
  displayname?: string;
}

interface Known {
  /** Read again from then on. */
  until: number;
  /** Lower- and upper-cased names to look for; undefined when the members could not be read. */
  names: Promise<readonly Needle[] | undefined>;
}

interface Needle {
  lower: string;
  upper: string;
}

const ROOM_MENTION: Needle = { lower: "@room", upper: "@ROOM" };

function needle(s: string): Needle {
  return { lower: s.toLowerCase(), upper: s.toUpperCase() };
}

/** `@local:server` → `local`. */
function localpartOf(userId: string): string {
  const colon = userId.indexOf(":");
  return userId.slice(1, colon === -1 ? undefined : colon);
}

function isEmptyObject(v: unknown): boolean {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  for (const _ in v) return false;
  return true;
}

export class EmptyMentions {
  private readonly rooms = new Map<string, Known>();

  /**
   * @param readMembers the room's members as the bridge bot sees them (joined, invited, …).
   * @param isBridgeUser true for the bot and the puppets.
   */
  constructor(
    private readonly readMembers: (roomId: string) => Promise<readonly RoomMemberName[]>,
    private readonly isBridgeUser: (userId: string) => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The content to send into `roomId`: `content` itself, or a copy without its empty `m.mentions`
   * when leaving it out changes no notification. Never rejects.
   */
  async trim(roomId: string, content: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!isEmptyObject(content["m.mentions"])) return content;
    const body = content["body"];
    if (typeof body !== "string") return content;
    const known = this.known(roomId);
    const names = await known.names;
    // A membership event came in while the names were read: they may be stale.
    if (names === undefined || this.rooms.get(roomId) !== known) return content;
    const lower = body.toLowerCase();
    const upper = body.toUpperCase();
    for (const n of names) if (lower.includes(n.lower) || upper.includes(n.upper)) return content;
    const { ["m.mentions"]: _dropped, ...rest } = content;
    return rest;
  }

  /**
   * Sees a transaction's events: a membership event makes its room's names stale, unless it is one
   * of the bridge's own users' (whose names never count; puppets join group portals often).
   */
  observe(events: readonly { type?: unknown; room_id?: unknown; state_key?: unknown }[]): void {
    for (const e of events) {
      if (e.type !== "m.room.member" || typeof e.room_id !== "string") continue;
      if (typeof e.state_key === "string" && this.isBridgeUser(e.state_key)) continue;
      this.rooms.delete(e.room_id);
    }
  }

  private known(roomId: string): Known {
    const now = this.now();
    const cached = this.rooms.get(roomId);
    if (cached && now < cached.until) return cached;
    if (cached) this.rooms.delete(roomId);
    else if (this.rooms.size >= MEMBERS_ROOMS_MAX) this.rooms.delete(this.rooms.keys().next().value!);
    const known: Known = { until: now + MEMBERS_TTL_MS, names: Promise.resolve(undefined) };
    known.names = this.names(roomId, known);
    this.rooms.set(roomId, known);
    return known;
  }

  private async names(roomId: string, known: Known): Promise<readonly Needle[] | undefined> {
    let members: readonly RoomMemberName[];
    try {
      members = await this.readMembers(roomId);
    } catch {
      known.until = Math.min(known.until, this.now() + MEMBERS_RETRY_MS);
      return undefined;
    }
    const out: Needle[] = [ROOM_MENTION];
    for (const m of members) {
      if (m.membership !== "join" && m.membership !== "invite") continue;
      if (this.isBridgeUser(m.userId)) continue;
      out.push(needle(localpartOf(m.userId)));
      // The homeserver skips an empty display name.
      const name = m.displayname?.trim();
      if (name) out.push(needle(name));
    }
    return out;
  }
}
