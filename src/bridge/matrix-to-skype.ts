// SPDX-License-Identifier: Apache-2.0
/**
 * Matrix → Skype: room events of portal rooms sent by the portal's linked user become Skype sends
 * through the durable outbox (one FIFO per portal, so order holds); typing notifications become
 * Skype typing indicators; a linked user inviting a puppet to a direct chat starts a DM portal.
 * Events from the bot or puppets are never bridged (no loops). Messages Skype cannot carry get a
 * "⚠️ Your … was not bridged" notice.
 */
import { SkypeError, SkypeErrorCode } from "../skype/errors.js";
import type { MessageRow } from "../store/types.js";
import { KeyedQueue } from "../util/keyed-queue.js";
import { errorText, Logger } from "../util/logger.js";
import type { BridgeContext } from "./context.js";
import { matrixToSkype, type MatrixMessageContent } from "./convert/index.js";
import { asRoomEvent, classifyEvent, type MatrixRoomEvent } from "./m2s-events.js";
import { type NoticeTarget, RoomNotices } from "./m2s-notices.js";
import type { OutboxPayload } from "./m2s-payload.js";
import {
  handlePuppetInvite,
  isBridgeUser,
  ownIdentities,
  puppetPerson,
  type M2sPortals,
  type PortalTarget,
} from "./m2s-portals.js";
import { DurableOutbox, failureReason } from "./outbox.js";

export type { M2sPortals, PortalTarget } from "./m2s-portals.js";

const log = new Logger("bridge.m2s");

/** A message the user can edit or delete on Skype: its Client-Message-ID and wire conversation. */
interface SkypeOriginal {
  readonly clientMessageId: string;
  readonly conversation: string;
  /** True when the Matrix event is itself an edit (or a deletion). */
  readonly isEdit: boolean;
}

/** Matrix → Skype. Construct once; feed it every room event and ephemeral event the management rooms did not take. */
export class MatrixToSkype {
  readonly outbox: DurableOutbox;
  private readonly queue = new KeyedQueue((room, e) =>
    log.error("handling a Matrix event failed", { room, error: errorText(e) }),
  );
  private readonly typing = new Map<string, boolean>();
  private readonly notices: RoomNotices;

  constructor(
    private readonly ctx: BridgeContext,
    private readonly portals: M2sPortals,
    outbox?: DurableOutbox,
  ) {
    this.outbox = outbox ?? new DurableOutbox(ctx);
    this.notices = new RoomNotices(ctx, (roomId) => this.dmPuppet(roomId));
  }

  /**
   * Handles one room event; resolves once it has been handled (the send is durably queued, not
   * necessarily delivered), so the inbox can mark it done. Never rejects.
   */
  onEvent(raw: unknown): Promise<void> {
    const ev = asRoomEvent(raw);
    if (!ev || isBridgeUser(this.ctx, ev.sender)) return Promise.resolve();
    if (ev.type === "m.room.member") {
      const target = ev.state_key;
      if (ev.content["membership"] !== "invite" || target === undefined) return Promise.resolve();
      if (puppetPerson(this.ctx, target) === undefined) return Promise.resolve();
      return this.queue.push(ev.room_id, () => handlePuppetInvite(this.ctx, this.portals, ev, target));
    }
    return this.queue.push(ev.room_id, () => this.handle(ev));
  }

  /** Handles an ephemeral event (`m.typing` of the linked user in a portal). Never rejects. */
  async onEphemeral(raw: unknown): Promise<void> {
    try {
      const ev = raw as { type?: unknown; room_id?: unknown; content?: { user_ids?: unknown } } | null;
      if (ev?.type !== "m.typing" || typeof ev.room_id !== "string") return;
      const ids = Array.isArray(ev.content?.user_ids) ? ev.content.user_ids : [];
      const portal = await this.portals.conversationFor(ev.room_id);
      if (!portal) return;
      const typing = ids.includes(portal.receiver);
      if ((this.typing.get(ev.room_id) ?? false) === typing) return;
      this.typing.set(ev.room_id, typing);
      const sent = this.ctx.sessions.get(portal.receiver)?.sendTyping(portal.conversation, typing) ?? false;
      log.debug("typing forwarded", { room: ev.room_id, typing, sent });
    } catch (e) {
      log.warn("could not forward typing", { error: errorText(e) });
    }
  }

  /** Resolves once every queued event has been handled (tests, shutdown). */
  async drain(): Promise<void> {
    await this.queue.drain();
  }

  private async handle(ev: MatrixRoomEvent): Promise<void> {
    const portal = await this.portals.conversationFor(ev.room_id);
    if (!portal) return;
    if (ev.sender !== portal.receiver) {
      log.debug("ignoring an event from someone other than the portal's user", { room: ev.room_id });
      return;
    }
    if ((ev.type === "m.room.name" || ev.type === "m.room.topic") && ev.state_key === "") {
      return this.renameThread(ev, portal);
    }
    const action = classifyEvent(ev);
    switch (action.kind) {
      case "send":
        return this.send(ev, portal, action.content, action.notice);
      case "edit":
        return this.edit(ev, portal, action.target, action.content);
      case "redact":
        return this.redact(ev, portal, action.target);
      case "unsupported":
        return this.notices.notBridged(noticeTarget(ev), action.subject, action.reason, "unsupported");
      case "ignore":
        log.debug("event not bridged", { room: ev.room_id, event: ev.event_id, why: action.why });
        return;
    }
  }

  /**
   * The user renamed a group portal (or changed its topic): a Skype thread has one topic, which the
   * portal shows as both name and topic, so either change sets it. DM portals keep their names.
   */
  private async renameThread(ev: MatrixRoomEvent, portal: PortalTarget): Promise<void> {
    const field = ev.type === "m.room.name" ? "name" : "topic";
    const value = ev.content[field];
    if (portal.kind !== "group" || typeof value !== "string" || !value.trim()) return;
    const session = this.ctx.sessions.get(portal.receiver);
    try {
      if (!session) throw new SkypeError(SkypeErrorCode.NotConnected, "not linked", true);
      await session.setThreadTopic(portal.conversation, value.trim());
    } catch (e) {
      log.warn("could not set the Skype thread's topic", { room: ev.room_id, error: errorText(e) });
      await this.notices.notBridged(noticeTarget(ev), `${field} change`, failureReason(e));
    }
  }

  private base(ev: MatrixRoomEvent): { v: 1; sender: string; ts: number } {
    const ts = typeof ev.origin_server_ts === "number" ? ev.origin_server_ts : Date.now();
    return { v: 1, sender: ev.sender, ts };
  }

  private submit(
    ev: MatrixRoomEvent,
    portal: PortalTarget,
    conversation: string,
    payload: OutboxPayload,
  ): void {
    const result = this.outbox.submit({
      receiver: portal.receiver,
      roomId: ev.room_id,
      eventId: ev.event_id,
      conversation,
      payload,
    });
    log.debug("Matrix event queued for Skype", { room: ev.room_id, event: ev.event_id, result });
  }

  private send(
    ev: MatrixRoomEvent,
    portal: PortalTarget,
    content: MatrixMessageContent,
    notice: boolean,
  ): void {
    const out = this.convert(content);
    if (out.body.trim() === "") return;
    const payload: OutboxPayload = { ...this.base(ev), kind: out.kind, body: out.body };
    this.submit(ev, portal, portal.conversation, notice ? { ...payload, quiet: true } : payload);
  }

  private async edit(
    ev: MatrixRoomEvent,
    portal: PortalTarget,
    target: string,
    content: MatrixMessageContent,
  ): Promise<void> {
    const original = this.original(portal.receiver, target);
    // null: someone else's message, or deleted; isEdit: edits must target the original (spec).
    if (original === null || original?.isEdit) return;
    if (original === undefined)
      return this.notices.notBridged(
        noticeTarget(ev),
        "edit",
        "the message it changes never reached Skype.",
        "edit",
      );
    const out = this.convert(content);
    if (out.body.trim() === "") return; // an empty edit would delete the message on Skype
    this.submit(ev, portal, original.conversation, {
      ...this.base(ev),
      kind: "edit",
      target: original.clientMessageId,
      originalEventId: target,
      format: out.kind === "richtext" ? "richtext" : "text",
      body: out.body,
      emote: out.kind === "emote",
    });
  }

  private async redact(ev: MatrixRoomEvent, portal: PortalTarget, target: string): Promise<void> {
    const original = this.original(portal.receiver, target);
    if (!original) return; // not a message on Skype (a notice, an image, …) or already deleted
    if (original.isEdit)
      return this.notices.notBridged(
        noticeTarget(ev),
        "redaction",
        "Skype cannot undo a single edit.",
        "redact",
      );
    this.submit(ev, portal, original.conversation, {
      ...this.base(ev),
      kind: "delete",
      target: original.clientMessageId,
      originalEventId: target,
    });
  }

  /**
   * The Skype message behind Matrix event `eventId`, if the user may change it: one the bridge sent
   * (mapped or still queued) or one the user sent from another Skype endpoint. `undefined`: not
   * known at all; `null`: known but not changeable (someone else's, or deleted).
   */
  private original(receiver: string, eventId: string): SkypeOriginal | null | undefined {
    const { store } = this.ctx;
    const row = store.messages.getByEventId(eventId);
    if (row) return this.changeable(receiver, row);
    const queued = store.outbox.getByEventId(eventId);
    if (!queued || queued.receiver !== receiver) return undefined;
    const kind = (queued.payload as { kind?: unknown } | null)?.kind;
    return {
      clientMessageId: queued.clientMessageId,
      conversation: queued.conversation,
      isEdit: kind === "edit" || kind === "delete",
    };
  }

  private changeable(receiver: string, row: MessageRow): SkypeOriginal | null {
    if (row.receiver !== receiver || row.deleted || row.clientMessageId === null) return null;
    const mine = row.direction === "to_skype" || ownIdentities(this.ctx, receiver).has(row.sender);
    if (!mine) return null;
    return {
      clientMessageId: row.clientMessageId,
      conversation: row.conversation,
      isEdit: row.editOf !== null,
    };
  }

  /** Matrix content → what Skype gets. `/me` is plain text (Skype's emote carries no markup). */
  private convert(content: MatrixMessageContent): { kind: "text" | "richtext" | "emote"; body: string } {
    const opts = { puppetResolver: (mxid: string) => this.mriOfPuppet(mxid) };
    const out = matrixToSkype(content, opts);
    if (!out.emote) return { kind: out.type, body: out.body };
    return { kind: "emote", body: matrixToSkype(withoutHtml(content), opts).body };
  }

  private mriOfPuppet(mxid: string): string | undefined {
    const personId = puppetPerson(this.ctx, mxid);
    if (personId === undefined) return undefined;
    const person = this.ctx.store.persons.getByIdentity(personId);
    return (person && this.ctx.store.persons.replyIdentity(person.id)) ?? personId;
  }

  private dmPuppet(roomId: string): string | undefined {
    const portal = this.ctx.store.portals.getByRoom(roomId);
    return portal?.kind === "dm" ? this.ctx.store.puppets.get(portal.conversation)?.mxid : undefined;
  }
}

function noticeTarget(ev: MatrixRoomEvent): NoticeTarget {
  return { roomId: ev.room_id, eventId: ev.event_id, sender: ev.sender };
}

/** The content (and its `m.new_content`) without HTML, so the plain body is used. */
function withoutHtml(content: MatrixMessageContent): MatrixMessageContent {
  const strip = (c: Record<string, unknown>): Record<string, unknown> => {
    const { format: _f, formatted_body: _b, ...rest } = c;
    return rest;
  };
  const copy = strip(content);
  const nc = content["m.new_content"];
  if (nc !== null && typeof nc === "object" && !Array.isArray(nc))
    copy["m.new_content"] = strip(nc as Record<string, unknown>);
  return copy;
}
