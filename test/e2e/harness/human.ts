// SPDX-License-Identifier: Apache-2.0
/**
 * The human side of an end-to-end test: matrix-bot-sdk's MatrixClient (a real client library)
 * syncing against the real Synapse, plus waiters for timeline and ephemeral events.
 */
import { MatrixClient, LogService, LogLevel, type ICryptoStorageProvider } from "@vector-im/matrix-bot-sdk";
import { waitFor } from "./util.js";

// The client library logs every failed request, including the sync cut off when a test ends;
// tests assert on events instead, so its log is muted.
LogService.setLevel(LogLevel.ERROR);
const quiet = (): void => undefined;
LogService.setLogger({ info: quiet, warn: quiet, error: quiet, debug: quiet, trace: quiet });

export interface RoomEvent {
  room_id: string;
  event_id: string;
  type: string;
  sender: string;
  state_key?: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  redacts?: string;
  unsigned?: Record<string, unknown>;
}

export interface EphemeralEvent {
  room_id: string;
  type: string;
  content: Record<string, unknown>;
}

export class HumanClient extends MatrixClient {
  /** Every timeline event seen, in sync order, per room. */
  readonly timeline: RoomEvent[] = [];
  readonly ephemeral: EphemeralEvent[] = [];
  readonly invites: { roomId: string; event: RoomEvent }[] = [];
  readonly presence: { sender: string; content: Record<string, unknown> }[] = [];

  /** Ids of the timeline events that arrived encrypted (and were decrypted; encryption tests). */
  readonly arrivedEncrypted = new Set<string>();
  /** Ids of the encrypted events this client could not decrypt. */
  readonly undecryptable = new Set<string>();

  /** With `cryptoStore`, the client has its own device with bot-sdk's crypto (encrypted rooms). */
  constructor(
    homeserverUrl: string,
    accessToken: string,
    readonly mxid: string,
    cryptoStore?: ICryptoStorageProvider,
  ) {
    super(homeserverUrl, accessToken, undefined, cryptoStore);
    this.on("room.decrypted_event", (_roomId: string, event: { event_id: string }) => {
      this.arrivedEncrypted.add(event.event_id);
    });
    this.on("room.failed_decryption", (_roomId: string, event: { event_id: string }) => {
      this.undecryptable.add(event.event_id);
    });
    this.on("room.event", (roomId: string, event: Omit<RoomEvent, "room_id">) => {
      this.timeline.push({ ...event, room_id: roomId });
    });
    this.on("room.invite", (roomId: string, event: RoomEvent) => {
      this.invites.push({ roomId, event });
    });
  }

  protected override async processSync(
    raw: Record<string, unknown>,
    emitFn?: (emitEventType: string, ...payload: unknown[]) => Promise<unknown>,
  ): Promise<unknown> {
    const rooms = (raw.rooms ?? {}) as {
      join?: Record<string, { ephemeral?: { events?: EphemeralEvent[] } }>;
    };
    for (const [roomId, room] of Object.entries(rooms.join ?? {})) {
      for (const ev of room.ephemeral?.events ?? []) this.ephemeral.push({ ...ev, room_id: roomId });
    }
    const presence = (raw.presence ?? {}) as {
      events?: { sender: string; content: Record<string, unknown> }[];
    };
    for (const ev of presence.events ?? []) this.presence.push(ev);
    return super.processSync(raw, emitFn);
  }

  /** Waits for a timeline event matching `pred`, looking at what was already seen first. */
  async waitForEvent(pred: (e: RoomEvent) => boolean, what: string, timeoutMs = 30_000): Promise<RoomEvent> {
    return waitFor(() => this.timeline.find(pred), { timeoutMs, what });
  }

  /** Messages (m.room.message) in a room from anyone but this user, in order. */
  messagesIn(roomId: string, opts: { fromOthers?: boolean } = {}): RoomEvent[] {
    return this.timeline.filter(
      (e) =>
        e.room_id === roomId && e.type === "m.room.message" && (!opts.fromOthers || e.sender !== this.mxid),
    );
  }

  async waitForInvite(pred: (roomId: string, e: RoomEvent) => boolean, what: string): Promise<string> {
    const inv = await waitFor(() => this.invites.find((i) => pred(i.roomId, i.event)), {
      timeoutMs: 30_000,
      what,
    });
    return inv.roomId;
  }

  async waitForEphemeral(pred: (e: EphemeralEvent) => boolean, what: string): Promise<EphemeralEvent> {
    return waitFor(() => this.ephemeral.find(pred), { timeoutMs: 30_000, what });
  }
}
