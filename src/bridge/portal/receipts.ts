// SPDX-License-Identifier: Apache-2.0
/**
 * Read receipts both ways (PROFILE §7.5, the consumption horizon):
 * - Matrix → Skype: the linked user's `m.read` receipt in a portal (an ephemeral `m.receipt`) moves
 *   the Skype horizon of that conversation to the newest bridged Skype message at or before the
 *   receipted event. `m.read.private` is never bridged. Receipts only move the horizon forward, and
 *   a burst in one portal is coalesced: receipts wait in the portal's queue (behind the messages
 *   they may refer to) and one horizon write covers all that arrived meanwhile.
 * - Skype → Matrix: a contact's horizon becomes an `m.read` receipt from their puppet on the Matrix
 *   event of the message it names (or, for a message the bridge never saw, the newest bridged one
 *   before it). Receipts the puppets send come back as ephemeral events of puppets, never of the
 *   linked user, so they cannot loop back to Skype.
 * - The user's own horizon from another Skype endpoint only records how far Skype is read (so the
 *   bridge never writes it again) and is handed to {@link ReadReceipts.ownSkypeHorizonHook}, which
 *   double puppeting sets to mark the room read as the user; receipts it sends as the user must be
 *   announced with {@link ReadReceipts.noteOwnReceipt} so they are not written back to Skype.
 */
import type { HorizonEvent, Session } from "../../sessions/types.js";
import type { MessageRow } from "../../store/types.js";
import { compareMessageIds } from "../../util/message-ids.js";
import { errorText, Logger } from "../../util/logger.js";
import type { Bridge } from "../bridge.js";
import type { Portal } from "./portal.js";

const log = new Logger("bridge.portal.receipts");

/**
 * Called (in the portal's queue) for the user's own read state from another Skype endpoint, with
 * the bridged message it names (undefined when the bridge never saw it).
 */
export type OwnSkypeHorizonHook = (
  p: Portal,
  e: HorizonEvent,
  message: MessageRow | undefined,
) => Promise<void>;

/** Per-portal read state, in memory. */
interface PortalReads {
  /** Event ids the user's receipts named since the last flush. */
  pending: { eventId: string; ts: number | undefined }[];
  /** True while a flush waits in the portal's queue. */
  queued: boolean;
  /** The furthest Skype Message-ID known read by the user (written by us or by their other endpoint). */
  userHorizon?: string;
  /** Per puppet: the message-map row id of the newest message it marked read. */
  puppetRead: Map<string, { sentTs: number; id: number }>;
}

/** Most own-receipt echoes remembered (they are consumed when they come back). */
const MAX_ECHOES = 10_000;

export class ReadReceipts {
  private readonly reads = new Map<string, PortalReads>();
  private readonly ownEchoes = new Set<string>();
  /** Double puppeting's hook for the user's own Skype read state (none: skipped). */
  ownSkypeHorizonHook: OwnSkypeHorizonHook | undefined;

  constructor(private readonly bridge: Bridge) {}

  /** Subscribes to a session's horizons (each is handled in its portal's queue). */
  attach(session: Session): void {
    session.on("horizon", (h) => this.onSkypeHorizon(session.mxid, h));
  }

  /**
   * Announces a receipt the bridge is about to send as the linked user itself (double puppeting),
   * so that its echo is not written back to Skype.
   */
  noteOwnReceipt(roomId: string, eventId: string): void {
    if (this.ownEchoes.size >= MAX_ECHOES) this.ownEchoes.clear();
    this.ownEchoes.add(`${roomId}\n${eventId}`);
  }

  private stateOf(p: Portal): PortalReads {
    let st = this.reads.get(p.key);
    if (!st) {
      st = { pending: [], queued: false, puppetRead: new Map() };
      this.reads.set(p.key, st);
    }
    return st;
  }

  // ---- Matrix → Skype ----

  /** An `m.receipt` ephemeral event. Never throws. */
  handleReceiptEvent(raw: unknown): void {
    try {
      const ev = raw as { room_id?: unknown; content?: unknown } | null;
      if (typeof ev?.room_id !== "string" || ev.content === null || typeof ev.content !== "object") return;
      const portal = this.bridge.portals.forRoom(ev.room_id);
      if (!portal) return;
      for (const [eventId, byType] of Object.entries(ev.content as Record<string, unknown>)) {
        if (byType === null || typeof byType !== "object") continue;
        // Only the public `m.read`; `m.read.private` is the user's wish that nobody learns it.
        const read = (byType as Record<string, unknown>)["m.read"];
        if (read === null || typeof read !== "object") continue;
        const mine = (read as Record<string, { ts?: unknown } | null | undefined>)[portal.receiver];
        if (mine === undefined) continue;
        if (this.ownEchoes.delete(`${ev.room_id}\n${eventId}`)) continue;
        const ts = mine?.ts;
        this.schedule(portal, eventId, typeof ts === "number" ? ts : undefined);
      }
    } catch (e) {
      log.warn("could not read a receipt", { error: errorText(e) });
    }
  }

  private schedule(p: Portal, eventId: string, ts: number | undefined): void {
    const st = this.stateOf(p);
    st.pending.push({ eventId, ts });
    if (st.queued) return;
    st.queued = true;
    void p.enqueue(() => this.flush(p, st));
  }

  /** Writes one horizon for every receipt that arrived since the last flush (if it moves forward). */
  private async flush(p: Portal, st: PortalReads): Promise<void> {
    st.queued = false;
    const receipts = st.pending.splice(0);
    let target: MessageRow | undefined;
    for (const r of receipts) {
      const row = await this.skypeMessageAt(p, r.eventId, r.ts);
      if (row && (!target || compareMessageIds(row.skypeMessageId!, target.skypeMessageId!) > 0))
        target = row;
    }
    if (!target) {
      log.debug("a read receipt names no bridged Skype message", { room: p.roomId });
      return;
    }
    const messageId = target.skypeMessageId!;
    if (st.userHorizon !== undefined && compareMessageIds(messageId, st.userHorizon) <= 0) return;
    const session = this.bridge.sessions.get(p.receiver);
    if (!session?.markRead) return;
    const previous = st.userHorizon;
    st.userHorizon = messageId;
    const room = p.roomId;
    // Not awaited in the queue: a slow Skype server must not hold the portal's messages back.
    const write = (async () =>
      session.markRead!(target.conversation, messageId, target.clientMessageId ?? undefined))();
    write.then(
      () => log.debug("read receipt bridged", { room, messageId, receipts: receipts.length }),
      (e: unknown) => {
        // Read state is not worth a notice: the next receipt marks it again.
        if (st.userHorizon === messageId) st.userHorizon = previous;
        log.info("could not move the Skype read horizon", { room, error: errorText(e) });
      },
    );
  }

  /** The newest bridged Skype message (with a Message-ID) at or before Matrix event `eventId`. */
  private async skypeMessageAt(
    p: Portal,
    eventId: string,
    receiptTs: number | undefined,
  ): Promise<MessageRow | undefined> {
    const roomId = p.roomId;
    if (roomId === undefined) return undefined;
    const { messages } = this.bridge.store;
    const row = messages.getByEventId(eventId);
    if (row && row.roomId === roomId) {
      if (row.skypeMessageId !== null && row.editOf === null && row.part === 0) return row;
      return messages.newestSkypeMessageAtOrBefore(roomId, row.sentTs);
    }
    // An event the bridge did not map (a notice, a state event…): by its time in the room.
    const ts = (await this.eventTs(p, roomId, eventId)) ?? receiptTs;
    return ts === undefined ? undefined : messages.newestSkypeMessageAtOrBefore(roomId, ts);
  }

  private async eventTs(p: Portal, roomId: string, eventId: string): Promise<number | undefined> {
    const { matrix, portals, botUserId } = this.bridge;
    try {
      const ev = await matrix.getEvent(portals.dmPuppetOf(roomId) ?? botUserId, roomId, eventId);
      const ts = ev?.["origin_server_ts"];
      return typeof ts === "number" ? ts : undefined;
    } catch (e) {
      log.debug("could not read a receipted event", { room: roomId, user: p.receiver, error: errorText(e) });
      return undefined;
    }
  }

  // ---- Skype → Matrix ----

  private onSkypeHorizon(receiver: string, h: HorizonEvent): void {
    let portal: Portal | undefined;
    try {
      // A horizon never creates a person or a room.
      portal = this.bridge.portals.forConversation(receiver, h.conversation, false);
    } catch (e) {
      log.debug("a horizon of an unusable conversation", { user: receiver, error: errorText(e) });
    }
    if (!portal) return;
    const p = portal;
    void p.enqueue(() => this.applySkypeHorizon(p, h));
  }

  /** The bridged message a horizon names: by Message-ID, Client-Message-ID, else the newest before it. */
  private horizonMessage(p: Portal, h: HorizonEvent): MessageRow | undefined {
    const { messages } = this.bridge.store;
    const roomId = p.roomId;
    const usable = (r: MessageRow | undefined): MessageRow | undefined =>
      r && r.roomId === roomId && r.editOf === null ? r : undefined;
    const { messageId, clientMessageId } = h.horizon;
    const exact =
      (messageId !== undefined
        ? usable(messages.getBySkypeId(p.receiver, h.conversation, messageId))
        : undefined) ??
      (clientMessageId !== undefined
        ? usable(messages.getByClientId(p.receiver, h.conversation, clientMessageId))
        : undefined);
    if (exact || messageId === undefined) return exact;
    log.debug("a horizon names a message the bridge never saw; using the newest before it", {
      user: p.receiver,
      conversation: h.conversation,
      messageId,
    });
    return usable(messages.newestSkypeMessageUpTo(p.receiver, h.conversation, messageId));
  }

  /** A horizon in its portal's queue. Never throws for bad input; Matrix failures are logged. */
  private async applySkypeHorizon(p: Portal, h: HorizonEvent): Promise<void> {
    const roomId = p.roomId;
    if (roomId === undefined) return;
    const row = this.horizonMessage(p, h);
    if (h.fromMe || p.user.isSelf(h.user)) {
      const st = this.stateOf(p);
      const id = h.horizon.messageId;
      if (id !== undefined && (st.userHorizon === undefined || compareMessageIds(id, st.userHorizon) > 0))
        st.userHorizon = id;
      // Double puppeting turns this into the user's own receipt; without it, nothing to show.
      if (this.ownSkypeHorizonHook) await this.ownSkypeHorizonHook(p, h, row);
      return;
    }
    if (!row) {
      log.debug("a contact's horizon names no bridged message", {
        user: p.receiver,
        conversation: h.conversation,
      });
      return;
    }
    const st = this.stateOf(p);
    const { puppets, members, matrix } = this.bridge;
    const puppet = await puppets.ensure(h.user);
    const last = st.puppetRead.get(puppet.mxid);
    if (last && (row.sentTs < last.sentTs || (row.sentTs === last.sentTs && row.id <= last.id))) return;
    try {
      await members.ensureJoined(roomId, puppet.mxid);
      await matrix.sendReadReceipt(puppet.mxid, roomId, row.eventId);
      st.puppetRead.set(puppet.mxid, { sentTs: row.sentTs, id: row.id });
    } catch (e) {
      log.info("could not bridge a contact's read receipt", { room: roomId, error: errorText(e) });
    }
  }
}
