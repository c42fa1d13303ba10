// SPDX-License-Identifier: Apache-2.0
/**
 * What a Skype → Matrix failure means, and the words that tell the user about it (undelivered.ts
 * decides when; this file also reports messages that belong to no portal at all).
 */
import type { MessageMeta } from "../../skype/msnp/types.js";
import { StoreError, StoreErrorCode } from "../../store/errors.js";
import { errorText, Logger } from "../../util/logger.js";
import type { Bridge } from "../bridge.js";
import { fallbackName } from "../ghosts/puppets.js";
import { matrixErrorInfo } from "../matrix/errors.js";
import type { SkypeEvent } from "./from-skype.js";

const log = new Logger("bridge.portal.undelivered");

/** What kind of Skype event was not bridged (the notice names it). */
export type UndeliveredKind = "message" | "edit" | "delete" | "group change";

/** Stable codes of the portal's own failures. */
export const PortalErrorCode = {
  /** The portal's room does not exist and could not be created. */
  NoRoom: "PORTAL_NO_ROOM",
  /** The event reached Matrix, but the bridge could not record that (the message map). */
  Unrecorded: "PORTAL_UNRECORDED",
} as const;
export type PortalErrorCode = (typeof PortalErrorCode)[keyof typeof PortalErrorCode];

export class PortalError extends Error {
  constructor(
    readonly code: PortalErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "PortalError";
  }
}

/**
 * Runs the bookkeeping after an event reached Matrix. A failure there is not an undelivered
 * message — the user sees it in the room — so it becomes `Unrecorded` (transient ones stay as they
 * are, to be retried: every step before is idempotent).
 */
export function afterDelivery(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof StoreError && e.retryable) throw e;
    throw new PortalError(PortalErrorCode.Unrecorded, "a bridged event could not be recorded", { cause: e });
  }
}

/** Why a Skype event could not be bridged, in words for the user. */
export function undeliveredReason(e: unknown): string {
  if (e instanceof PortalError) return "the bridge could not create a room for this chat.";
  if (e instanceof StoreError) {
    if (e.code === StoreErrorCode.Busy) return "the bridge's database was busy for too long.";
    return "the bridge could not store it in its database.";
  }
  const { status, errcode } = matrixErrorInfo(e);
  if (status === 413 || errcode === "M_TOO_LARGE") return "it is too large for your Matrix server.";
  if (status === 403 || errcode === "M_FORBIDDEN") return "the bridge is not allowed to post in the room.";
  if (status !== undefined) return `your Matrix server refused it (error ${status}).`;
  return "the bridge hit an internal error.";
}

/** What a Skype event is, when it is a message the user must hear about if it cannot be bridged. */
export function undeliveredKind(e: SkypeEvent): { meta: MessageMeta; kind: UndeliveredKind } | undefined {
  switch (e.kind) {
    case "message":
    case "unhandled":
      return { meta: e.event, kind: "message" };
    case "edit":
    case "delete":
      return { meta: e.event, kind: e.kind };
    case "threadActivity":
      return { meta: e.event, kind: "group change" };
    case "typing":
    case "threadUpdate":
      return undefined; // state, not messages
  }
}

const WHAT: Record<UndeliveredKind, string> = {
  message: "A message from",
  edit: "An edit by",
  delete: "A deletion by",
  "group change": "A change to the group by",
};

/** `2024-05-01 10:05 UTC` for a Skype arrival time (now when it has none). */
function when(arrivalTime: string | undefined, now: number): string {
  const ms = arrivalTime === undefined ? NaN : Date.parse(arrivalTime);
  return `${new Date(Number.isNaN(ms) ? now : ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The report: "⚠️ A message from <who><where>, sent <when>, could not be bridged: <reason>". */
export function undeliveredText(
  kind: UndeliveredKind,
  who: string,
  meta: Pick<MessageMeta, "arrivalTime">,
  reason: string,
  now: number,
  where = "",
): string {
  return `⚠️ ${WHAT[kind]} ${who}${where}, sent ${when(meta.arrivalTime, now)}, could not be bridged: ${reason}`;
}

/**
 * A Skype message of a conversation the bridge cannot map to a portal (an id it cannot use): the
 * user is told in their management room, and then its cursor moves on (as for any reported
 * message, undelivered.ts); without a management room, the cursor stays. Never throws.
 */
export async function reportUnroutable(
  bridge: Bridge,
  receiver: string,
  event: SkypeEvent,
  error: unknown,
): Promise<void> {
  const message = undeliveredKind(event);
  log.warn("a Skype event of an unusable conversation cannot be bridged", {
    user: receiver,
    kind: event.kind,
    error: errorText(error),
  });
  if (!message) return;
  const { meta, kind } = message;
  try {
    if (!bridge.store.users.get(receiver)?.managementRoomId) return;
    const who = meta.fromMe
      ? "you (from another Skype device)"
      : meta.displayName?.trim() || fallbackName(meta.sender);
    const reason = "the bridge could not tell which chat it belongs to.";
    await bridge.env.notifyUser(receiver, undeliveredText(kind, who, meta, reason, bridge.now()));
    if (meta.cursor) bridge.store.cursors.advance(receiver, meta.cursor.conversation, meta.cursor.messageId);
  } catch (e) {
    log.warn("could not tell the user about an undelivered message", { user: receiver, error: errorText(e) });
  }
}
