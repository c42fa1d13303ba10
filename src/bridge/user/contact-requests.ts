// SPDX-License-Identifier: Apache-2.0
/**
 * Incoming Skype contact requests: each new one becomes an invite to a room from the requester's
 * puppet (or, when the user already has a DM portal with that person, a notice there), where the
 * bot says who asks, with what text, and that the user may reply `accept` or `decline`. The reply
 * is handled here; after `accept` the room becomes the DM portal with that person.
 *
 * Dedupe: store.pendingRequests (one row per receiver and requester), so a request is announced
 * once however often the address book is re-read, across restarts too.
 */
import { SkypeError, SoapFaultError } from "../../skype/errors.js";
import type { ContactRequest, Session } from "../../sessions/types.js";
import type { PendingRequestRow } from "../../store/types.js";
import { KeyedQueue } from "../../util/keyed-queue.js";
import { Logger, errorText } from "../../util/logger.js";
import type { Bridge } from "../bridge.js";
import { escapeHtml } from "../convert/index.js";
import { fallbackName } from "../ghosts/puppets.js";
import { matrixErrorText } from "../matrix/errors.js";
import { txnIdFor } from "../matrix/txn-ids.js";
import { createDmRoom } from "../portal/room-create.js";

const log = new Logger("bridge.contact-requests");

/** A Matrix room event as the appservice delivers it (the fields used here). */
export interface RoomMessageEvent {
  room_id: string;
  sender: string;
  event_id: string;
  type: string;
  origin_server_ts?: number;
  content?: Record<string, unknown>;
}

export type Answer = "accept" | "decline";

/** Reads `accept` / `decline` (optionally `!skype`-prefixed, any case, trailing punctuation). */
export function parseAnswer(body: string): Answer | undefined {
  const text = body
    .trim()
    .replace(/^!skype\s+/i, "")
    .replace(/[.!]+$/, "")
    .trim()
    .toLowerCase();
  return text === "accept" || text === "decline" ? text : undefined;
}

/** Human text for a failed accept/decline (never the raw protocol text). */
export function requestFailureText(e: unknown): string {
  if (e instanceof SoapFaultError && e.faultCode === "MemberDoesNotExist") {
    return "the request is no longer pending on Skype";
  }
  if (e instanceof SkypeError && (e.retryable || e.code === "SKYPE_NOT_CONNECTED")) {
    return "Skype could not be reached; please try again in a moment";
  }
  if (e instanceof SkypeError) return `Skype refused it (${e.code})`;
  return "an unexpected error occurred";
}

/** Shows contact requests to the user and carries out their answer. */
export class ContactRequests {
  private readonly queue = new KeyedQueue((key, e) =>
    log.error("a contact request could not be handled", { key, error: errorText(e) }),
  );
  private readonly attached = new WeakSet<Session>();

  constructor(private readonly ctx: Bridge) {}

  /** Subscribes to the session's `contactRequests` (idempotent). */
  attach(session: Session): void {
    if (this.attached.has(session)) return;
    this.attached.add(session);
    session.on("contactRequests", (requests) => {
      void this.queue.push(session.mxid, () => this.onRequests(session.mxid, requests));
    });
  }

  /** Announces every request not seen before. Never throws for one bad request. */
  async onRequests(receiver: string, requests: readonly ContactRequest[]): Promise<void> {
    for (const r of requests) {
      try {
        const res = this.ctx.store.pendingRequests.upsert(receiver, r.mri, {
          displayName: r.displayName || null,
          message: r.message || null,
        });
        if (res.row.status === "pending" && res.row.roomId === null) await this.announce(res.row);
      } catch (e) {
        log.warn("could not show a contact request", { user: receiver, error: errorText(e) });
      }
    }
  }

  private async announce(req: PendingRequestRow): Promise<void> {
    const hint = req.displayName ? { displayName: req.displayName } : {};
    const puppet = await this.ctx.puppets.ensure(req.mri, hint);
    let roomId = this.ctx.portals.roomFor(req.receiver, req.mri);
    const name = req.displayName?.trim() || fallbackName(req.mri);
    if (roomId === undefined) {
      // Clients show an invite by its room name (Hydrogen shows nothing else), so the name says what it is.
      const room = await createDmRoom(this.ctx, req.receiver, puppet.personId, {
        name: `Contact request from ${name}`,
        topic: `${name} wants to add you as a Skype contact. Reply "accept" or "decline" in this room.`,
      });
      roomId = room.roomId;
    }
    this.ctx.store.pendingRequests.update(req.receiver, req.mri, { roomId });
    const who = `${name} (${fallbackName(req.mri)})`;
    const said = req.message?.trim();
    const text =
      `${who} wants to add you as a Skype contact.` +
      (said ? ` Their message: “${said}”` : "") +
      `\n\nReply \`accept\` here to add them to your contacts, or \`decline\` to refuse.`;
    const html =
      `<strong>${escapeHtml(who)}</strong> wants to add you as a Skype contact.` +
      (said ? ` Their message: “${escapeHtml(said)}”` : "") +
      `<br><br>Reply <code>accept</code> here to add them to your contacts, or <code>decline</code> to refuse.`;
    await this.say(roomId, text, html, txnIdFor("request", req.receiver, req.mri, String(req.id)));
    log.info("contact request shown", { user: req.receiver, room: roomId });
  }

  private async say(roomId: string, text: string, html: string, txnId: string): Promise<void> {
    const content = {
      msgtype: "m.notice",
      body: text,
      format: "org.matrix.custom.html",
      formatted_body: html,
      "m.mentions": {},
    };
    await this.ctx.members.ensureJoined(roomId, this.ctx.botUserId);
    await this.ctx.matrix.sendEvent(this.ctx.botUserId, roomId, "m.room.message", content, txnId);
  }

  /**
   * True when `event` is an answer the user gave before the request in its room was settled: a
   * replay of it (the bridge restarted before marking it handled) must not reach Skype as chat.
   */
  private answeredBefore(event: RoomMessageEvent): boolean {
    const ts = event.origin_server_ts;
    if (typeof ts !== "number") return false;
    return this.ctx.store.pendingRequests
      .list(event.sender)
      .some((r) => r.roomId === event.room_id && r.status !== "pending" && r.updatedTs >= ts);
  }

  /** The pending request shown in `roomId` to `receiver`, if any. */
  private pendingIn(receiver: string, roomId: string): PendingRequestRow | undefined {
    return this.ctx.store.pendingRequests.list(receiver, "pending").find((r) => r.roomId === roomId);
  }

  /**
   * Handles a Matrix event in a room holding a pending request: the receiver's `accept` or
   * `decline`; any other message there while the room is not yet a portal gets a reminder.
   * Returns true when the event was consumed (do not bridge it).
   */
  async onRoomEvent(event: RoomMessageEvent): Promise<boolean> {
    if (event.type !== "m.room.message" || event.sender === this.ctx.botUserId) return false;
    const body = typeof event.content?.body === "string" ? event.content.body : "";
    const answer = parseAnswer(body);
    const req = this.pendingIn(event.sender, event.room_id);
    if (!req) return answer !== undefined && this.answeredBefore(event);
    const isPortal = this.ctx.store.portals.getByRoom(event.room_id) !== undefined;
    if (answer === undefined) {
      if (isPortal) return false;
      const text = "Please reply `accept` or `decline` to this contact request first.";
      await this.say(
        event.room_id,
        text,
        text.replace(/`([^`]+)`/g, "<code>$1</code>"),
        txnIdFor("remind", event.event_id),
      );
      return true;
    }
    await this.queue.push(req.receiver, () => this.answer(req, answer, event.event_id));
    return true;
  }

  private async answer(req: PendingRequestRow, answer: Answer, eventId: string): Promise<void> {
    const current = this.ctx.store.pendingRequests.get(req.receiver, req.mri);
    if (!current || current.status !== "pending" || current.roomId === null) return;
    const roomId = current.roomId;
    const name = current.displayName?.trim() || fallbackName(current.mri);
    const txn = txnIdFor("answer", eventId);
    if (!this.ctx.sessions.get(req.receiver)) {
      const text =
        "You are not signed in to Skype; sign in with `login` in your management room, then try again.";
      return this.say(roomId, text, text.replace(/`([^`]+)`/g, "<code>$1</code>"), txn);
    }
    const failure = await this.carryOut(req.receiver, current.mri, answer);
    if (failure !== undefined) {
      const text = `Could not ${answer} the request from ${name}: ${failure}.`;
      return this.say(roomId, text, escapeHtml(text), txn);
    }
    await this.followUp(current, roomId, answer, txn);
  }

  /** Tells Skype the answer and records it; returns why it failed, or undefined. */
  private async carryOut(receiver: string, mri: string, answer: Answer): Promise<string | undefined> {
    const session = this.ctx.sessions.get(receiver);
    if (!session) return "you are not signed in to Skype";
    try {
      if (answer === "accept") await session.acceptContactRequest(mri);
      else await session.declineContactRequest(mri);
    } catch (e) {
      log.warn("contact request answer failed", { user: receiver, answer, error: errorText(e) });
      return requestFailureText(e);
    }
    if (this.ctx.store.pendingRequests.get(receiver, mri)) {
      this.ctx.store.pendingRequests.update(receiver, mri, {
        status: answer === "accept" ? "accepted" : "declined",
      });
    }
    return undefined;
  }

  /** After a settled request: the room becomes the DM portal (accept), or the requester leaves it (decline). */
  private async followUp(
    req: PendingRequestRow,
    roomId: string,
    answer: Answer,
    txn: string,
  ): Promise<string> {
    const name = req.displayName?.trim() || fallbackName(req.mri);
    if (answer === "decline") {
      await this.afterDecline(req, roomId, name, txn);
      return `Declined the contact request from ${name}.`;
    }
    const { puppets, portals } = this.ctx;
    const person = puppets.personFor(req.mri);
    const portalRoom = portals.attachDmRoom(req.receiver, person.id, roomId, puppets.nameOf(person));
    if (portalRoom === roomId) await this.renameAfterContact(roomId, person.id);
    const text =
      portalRoom === roomId
        ? `Accepted: ${name} is now one of your Skype contacts. Messages in this room now go to them on Skype.`
        : `Accepted: ${name} is now one of your Skype contacts. You already have a chat with them: https://matrix.to/#/${portalRoom}`;
    await this.say(roomId, text, escapeHtml(text), txn);
    return `Accepted: ${name} is now one of your Skype contacts. Your chat with them: https://matrix.to/#/${portalRoom}`;
  }

  /** The request's room becomes the DM portal: named after the contact, its request topic cleared. */
  private async renameAfterContact(roomId: string, personId: string): Promise<void> {
    const { puppets, matrix } = this.ctx;
    const puppet = puppets.mxidOf(personId);
    const name = puppets.nameOf(puppets.personFor(personId));
    try {
      await matrix.sendState(puppet, roomId, "m.room.name", "", { name });
      await matrix.sendState(puppet, roomId, "m.room.topic", "", { topic: "" });
    } catch (e) {
      log.warn("could not rename an accepted contact request's room", {
        room: roomId,
        error: matrixErrorText(e),
      });
    }
  }

  /**
   * Answers a request by command (`accept <id>` / `decline <id>` in the management room): Skype is
   * told, and the request's room, if it was shown in one, gets the same follow-up as an answer
   * typed there. Resolves with what to tell the user and whether it worked.
   */
  answerByCommand(receiver: string, mri: string, answer: Answer): Promise<{ ok: boolean; text: string }> {
    return this.queue.run(receiver, async () => {
      const current = this.ctx.store.pendingRequests.get(receiver, mri);
      const name = current?.displayName?.trim() || fallbackName(mri);
      const failure = await this.carryOut(receiver, mri, answer);
      if (failure !== undefined)
        return { ok: false, text: `Could not ${answer} the request from ${name}: ${failure}.` };
      if (current?.status === "pending" && current.roomId !== null) {
        const txn = txnIdFor("answer-command", receiver, mri, String(current.id));
        return { ok: true, text: await this.followUp(current, current.roomId, answer, txn) };
      }
      const done =
        answer === "accept"
          ? `Accepted the contact request from ${name}.`
          : `Declined the contact request from ${name}.`;
      return { ok: true, text: done };
    });
  }

  private async afterDecline(
    req: PendingRequestRow,
    roomId: string,
    name: string,
    txn: string,
  ): Promise<void> {
    const text = `Declined the contact request from ${name}.`;
    await this.say(roomId, text, escapeHtml(text), txn);
    if (this.ctx.store.portals.getByRoom(roomId)) return;
    const puppet = this.ctx.puppets.mxidOf(this.ctx.puppets.personFor(req.mri).id);
    await this.ctx.members
      .leave(roomId, puppet)
      .catch((e: unknown) =>
        log.debug("the requester's puppet could not leave", { error: matrixErrorText(e) }),
      );
  }
}
