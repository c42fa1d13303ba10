// SPDX-License-Identifier: Apache-2.0
/**
 * What a Matrix room event means for Skype: a message to send, an edit, a deletion, something Skype
 * cannot carry (answered with a notice), or nothing. Pure: no I/O. Fields are checked, not trusted.
 */
import type { SentMediaKind } from "../../skype/media/uri-object.js";
import type { MatrixMessageContent } from "../convert/index.js";
import { parseEncryptedFile, type EncryptedFileInfo } from "../matrix/attachment-crypto.js";

/** A room event as Synapse pushes it (only the fields this module reads are typed). */
export interface MatrixRoomEvent {
  readonly event_id: string;
  readonly room_id: string;
  readonly sender: string;
  readonly type: string;
  readonly state_key?: string;
  readonly origin_server_ts?: number;
  readonly redacts?: string;
  readonly content: Record<string, unknown>;
}

/** What to do with an event. */
export type M2sAction =
  /** A new message; `notice` when it was an `m.notice`. */
  | { kind: "send"; content: MatrixMessageContent; notice: boolean }
  /** An edit (`m.replace`) of the event `target`; `content` is the whole edit event's content. */
  | { kind: "edit"; target: string; content: MatrixMessageContent }
  /** A redaction of the event `target`. */
  | { kind: "redact"; target: string }
  /** Something Skype cannot carry: answer with "Your <subject> was not bridged: <reason>". */
  | { kind: "unsupported"; subject: string; reason: string }
  /** An image, a file or a sticker: uploaded to the object service, sent as a URIObject (PROFILE §7.3). */
  /** With `target`, an edit (`m.replace`) of that event whose new content is this image or file. */
  | { kind: "media"; media: MatrixMediaRef; target?: string }
  | { kind: "ignore"; why: string };

/** Matrix content to send to Skype as an object. */
export interface MatrixMediaRef {
  /** What Skype gets: a picture (`m.image`, stickers) or a file (`m.file`, `m.video`, `m.audio`). */
  kind: SentMediaKind;
  /** The `mxc://` URI. */
  url: string;
  /** The file name Skype shows (`filename`, else `body`). */
  name: string;
  mimetype?: string;
  size?: number;
  /** What the user would call it in a notice ("image", "sticker", "video", …). */
  subject: string;
  /** An encrypted file (`file` content, end-to-bridge encryption): how to decrypt what `url` holds. */
  file?: EncryptedFileInfo;
}

/** Media msgtypes: msgtype → what Skype gets and what a notice calls it. Skype's 2014 shapes are pictures and files. */
const MEDIA: ReadonlyMap<string, readonly [SentMediaKind, string]> = new Map([
  ["m.image", ["image", "image"]],
  ["m.file", ["file", "file"]],
  ["m.video", ["file", "video"]],
  ["m.audio", ["file", "audio message"]],
]);

/** Event types (not m.room.message) that users see as messages Skype cannot carry. */
const UNSUPPORTED_TYPES: ReadonlyMap<string, readonly [string, string]> = new Map([
  // MSNP24 has no reactions: say so rather than drop them silently.
  ["m.reaction", ["reaction", "reactions"]],
  ["m.poll.start", ["poll", "polls"]],
  ["org.matrix.msc3381.poll.start", ["poll", "polls"]],
]);

/** Message types that are never a user's chat message. */
const IGNORED_MSGTYPES = new Set(["m.key.verification.request", "m.bad.encrypted"]);

function unsupported(names: readonly [string, string]): M2sAction {
  return {
    kind: "unsupported",
    subject: names[0],
    reason: `Skype cannot receive ${names[1]} from this bridge yet.`,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The event an `m.replace` relation points at, if the content is an edit. */
export function editTarget(content: Record<string, unknown>): string | undefined {
  const rel = content["m.relates_to"];
  if (!isObject(rel) || rel["rel_type"] !== "m.replace") return undefined;
  const target = rel["event_id"];
  return typeof target === "string" && target !== "" ? target : undefined;
}

/** The target of a redaction: `content.redacts` (room v11+) or the top-level `redacts`. */
export function redactionTarget(ev: MatrixRoomEvent): string | undefined {
  const inContent = ev.content["redacts"];
  if (typeof inContent === "string" && inContent !== "") return inContent;
  return typeof ev.redacts === "string" && ev.redacts !== "" ? ev.redacts : undefined;
}

function classifyMessage(content: Record<string, unknown>): M2sAction {
  const target = editTarget(content);
  const msgtype = content["msgtype"];
  if (target !== undefined) {
    const nc = content["m.new_content"];
    const newType = isObject(nc) ? nc["msgtype"] : msgtype;
    const media = typeof newType === "string" ? MEDIA.get(newType) : undefined;
    // A replaced image or file (or its new caption): the new content goes to Skype as a media edit.
    if (media && isObject(nc)) {
      const action = mediaAction(nc, media[0], media[1]);
      // Without readable content (no url, or encrypted) there is nothing to replace it with.
      return action.kind === "media"
        ? { ...action, target }
        : { kind: "ignore", why: `an edit of a ${media[1]} without readable content` };
    }
    if (typeof newType === "string" && (newType === "m.location" || IGNORED_MSGTYPES.has(newType)))
      return { kind: "ignore", why: `an edit of a ${newType} message` };
    return { kind: "edit", target, content };
  }
  if (typeof msgtype !== "string") return { kind: "ignore", why: "a message without msgtype" };
  const media = MEDIA.get(msgtype);
  if (media) return mediaAction(content, media[0], media[1]);
  if (msgtype === "m.location") return locationAction(content);
  if (IGNORED_MSGTYPES.has(msgtype)) return { kind: "ignore", why: `msgtype ${msgtype}` };
  // m.text, m.emote, m.notice, and (liberal) any other msgtype that carries a text body.
  if (typeof content["body"] !== "string" && typeof content["formatted_body"] !== "string")
    return { kind: "ignore", why: "a message without a body" };
  return { kind: "send", content, notice: msgtype === "m.notice" };
}

/**
 * An image or a file to send. Encrypted media (`file` instead of `url`) are read when their `file`
 * is complete (the bridge only sees them in rooms it can decrypt).
 */
function mediaAction(content: Record<string, unknown>, kind: SentMediaKind, subject: string): M2sAction {
  const encrypted = parseEncryptedFile(content["file"]);
  const url = encrypted?.url ?? content["url"];
  if (typeof url !== "string" || !url.startsWith("mxc://")) {
    const why = isObject(content["file"]) ? "the bridge cannot read encrypted files." : "it has no content.";
    return { kind: "unsupported", subject, reason: why };
  }
  const text = (v: unknown): string | undefined =>
    typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
  const name = text(content["filename"]) ?? text(content["body"]) ?? (kind === "image" ? "image" : "file");
  const info = isObject(content["info"]) ? content["info"] : {};
  const media: MatrixMediaRef = { kind, url, name: name.slice(0, 255), subject };
  if (encrypted) media.file = encrypted.info;
  const mimetype = text(info["mimetype"]);
  if (mimetype !== undefined) media.mimetype = mimetype;
  const size = info["size"];
  if (typeof size === "number" && Number.isSafeInteger(size) && size >= 0) media.size = size;
  return { kind: "media", media };
}

/** A location goes to Skype as text with its geo URI (Skype has no location message in MSNP24). */
function locationAction(content: Record<string, unknown>): M2sAction {
  const geo = content["geo_uri"];
  if (typeof geo !== "string" || !/^geo:/i.test(geo))
    return { kind: "unsupported", subject: "location", reason: "it has no geo URI." };
  const body = typeof content["body"] === "string" ? content["body"].trim() : "";
  const text = body === "" ? geo : body.includes(geo) ? body : `${body} (${geo})`;
  return { kind: "send", content: { msgtype: "m.text", body: text }, notice: false };
}

/** Decides what `ev` means for Skype (see {@link M2sAction}). Never throws. */
export function classifyEvent(ev: MatrixRoomEvent): M2sAction {
  const content = isObject(ev.content) ? ev.content : {};
  switch (ev.type) {
    case "m.room.message":
      return classifyMessage(content);
    case "m.room.redaction": {
      const target = redactionTarget(ev);
      return target === undefined
        ? { kind: "ignore", why: "a redaction without target" }
        : { kind: "redact", target };
    }
    case "m.room.encrypted":
      return {
        kind: "unsupported",
        subject: "message",
        reason: "the bridge cannot read encrypted messages, so Skype did not get it.",
      };
    case "m.sticker":
      return ev.state_key === undefined
        ? mediaAction(content, "image", "sticker")
        : { kind: "ignore", why: "a sticker state event" };
    default: {
      const names = UNSUPPORTED_TYPES.get(ev.type);
      if (names && ev.state_key === undefined) return unsupported(names);
      return { kind: "ignore", why: `event type ${ev.type}` };
    }
  }
}

/** Checks the fields every handled event needs; returns the event typed, or undefined. */
export function asRoomEvent(raw: unknown): MatrixRoomEvent | undefined {
  if (!isObject(raw)) return undefined;
  const { event_id, room_id, sender, type } = raw;
  if (typeof event_id !== "string" || typeof room_id !== "string") return undefined;
  if (typeof sender !== "string" || typeof type !== "string") return undefined;
  if (!isObject(raw["content"])) return undefined;
  return raw as unknown as MatrixRoomEvent;
}
