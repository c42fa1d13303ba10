// SPDX-License-Identifier: Apache-2.0
/**
 * What an outbox entry sends, as stored in `outbox.payload` (JSON). Read back after a restart, so it
 * is versioned and checked field by field: a row that does not parse is failed, never guessed at.
 */
import type { OutgoingMessage, Session } from "../../sessions/types.js";
import { parseEncryptedFile, type EncryptedFileInfo } from "../matrix/attachment-crypto.js";

/** Fields every payload has. */
interface PayloadBase {
  readonly v: 1;
  /** The Matrix user who sent the event. */
  readonly sender: string;
  /** The event's `origin_server_ts` (ms). */
  readonly ts: number;
  /** True when the event was an `m.notice` (no failure notice is posted for those). */
  readonly quiet?: boolean;
}

/** A new message. `text` bodies are plain; `richtext` is Skype's XML subset; `emote` is plain `/me` text. */
export interface SendPayload extends PayloadBase {
  readonly kind: "text" | "richtext" | "emote";
  readonly body: string;
}

/** An edit of the message with Client-Message-ID `target` (Matrix event `originalEventId`). */
export interface EditPayload extends PayloadBase {
  readonly kind: "edit";
  readonly target: string;
  readonly originalEventId: string;
  readonly format: "text" | "richtext";
  readonly body: string;
  readonly emote: boolean;
}

/** A deletion of the message with Client-Message-ID `target` (Matrix event `originalEventId`). */
export interface DeletePayload extends PayloadBase {
  readonly kind: "delete";
  readonly target: string;
  readonly originalEventId: string;
}

/**
 * An image or a file (PROFILE §7.3): the `mxc://` content is downloaded, uploaded to the object
 * service and sent as a URIObject when the entry is dispatched (again after a restart: the upload is
 * redone, the Client-Message-ID stays).
 */
export interface MediaPayload extends PayloadBase {
  readonly kind: "media";
  readonly media: "image" | "file";
  readonly url: string;
  readonly name: string;
  readonly mimetype?: string;
  readonly size?: number;
  /** What a failure notice calls it ("image", "sticker", "file", …). */
  readonly subject: string;
  /** `url` holds an encrypted file (end-to-bridge encryption): its key, IV and hash. */
  readonly file?: EncryptedFileInfo;
  /** For an edit: the Client-Message-ID of the message it replaces, and that message's Matrix event. */
  readonly target?: string;
  readonly originalEventId?: string;
}

export type OutboxPayload = SendPayload | EditPayload | DeletePayload | MediaPayload;

const str = (v: unknown): v is string => typeof v === "string";

/** Parses a stored payload; undefined when it is not one this code wrote. */
export function parsePayload(raw: unknown): OutboxPayload | undefined {
  if (raw === null || typeof raw !== "object") return undefined;
  const p = raw as Record<string, unknown>;
  if (p["v"] !== 1 || !str(p["sender"]) || typeof p["ts"] !== "number") return undefined;
  if (p["quiet"] !== undefined && typeof p["quiet"] !== "boolean") return undefined;
  switch (p["kind"]) {
    case "text":
    case "richtext":
    case "emote":
      return str(p["body"]) ? (p as unknown as SendPayload) : undefined;
    case "edit":
      if (!str(p["target"]) || !str(p["originalEventId"]) || !str(p["body"])) return undefined;
      if (p["format"] !== "text" && p["format"] !== "richtext") return undefined;
      return typeof p["emote"] === "boolean" ? (p as unknown as EditPayload) : undefined;
    case "delete":
      return str(p["target"]) && str(p["originalEventId"]) ? (p as unknown as DeletePayload) : undefined;
    case "media":
      if (p["media"] !== "image" && p["media"] !== "file") return undefined;
      if (!str(p["url"]) || !str(p["name"]) || !str(p["subject"])) return undefined;
      if (p["mimetype"] !== undefined && !str(p["mimetype"])) return undefined;
      if (p["size"] !== undefined && typeof p["size"] !== "number") return undefined;
      if (p["file"] !== undefined && !parseEncryptedFile({ ...(p["file"] as object), url: p["url"] }))
        return undefined;
      if ((p["target"] === undefined) !== (p["originalEventId"] === undefined)) return undefined;
      if (p["target"] !== undefined && (!str(p["target"]) || !str(p["originalEventId"]))) return undefined;
      return p as unknown as MediaPayload;
    default:
      return undefined;
  }
}

/** What a failure notice calls the payload: "Your <subject> was not bridged". */
export function payloadSubject(p: OutboxPayload): string {
  if (p.kind === "media") return p.subject;
  return p.kind === "edit" ? "edit" : p.kind === "delete" ? "redaction" : "message";
}

/** Hands the payload to the session (which queues it while disconnected). Media go through outbox-media.ts. */
export function sendPayload(
  session: Session,
  conversation: string,
  clientMessageId: string,
  p: Exclude<OutboxPayload, MediaPayload>,
): OutgoingMessage {
  switch (p.kind) {
    case "text":
      return session.sendText(conversation, p.body, clientMessageId);
    case "richtext":
      return session.sendRichText(conversation, p.body, clientMessageId);
    case "emote":
      return session.sendEmote(conversation, p.body, clientMessageId);
    case "edit":
      return session.editMessage(
        conversation,
        p.target,
        { format: p.format, body: p.body, emote: p.emote },
        clientMessageId,
      );
    case "delete":
      return session.deleteMessage(conversation, p.target, clientMessageId);
  }
}
