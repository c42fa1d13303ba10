// SPDX-License-Identifier: Apache-2.0
/**
 * Skype → Matrix images and files (PROFILE §7.3): the Matrix content for a received URIObject.
 * The object is downloaded through the user's session (its `uri` checked against the configured
 * object service first, its view waited for, bounded) and piped straight into the homeserver's
 * media repository — never held whole in memory — then described as `m.image` (type, size, and
 * width/height when the header says them cheaply; a thumbnail when Skype has a distinct one),
 * `m.video`, `m.audio` or `m.file`, with the original name. Whatever goes wrong becomes a notice
 * that says what was sent and why it did not come through; nothing is dropped in silence.
 */
import { pipeline, Readable } from "node:stream";
import type { EditEvent, MessageEvent, Session } from "../../sessions/types.js";
import type { MessageRow } from "../../store/types.js";
import { SkypeError, SkypeErrorCode } from "../../skype/errors.js";
import type { MediaContent, MediaKind, UriObject } from "../../skype/media/uri-object.js";
import { backoffDelay, sleep } from "../../util/backoff.js";
import { errorText, Logger } from "../../util/logger.js";
import { HeadTap, sniffImage, type ImageInfo } from "../convert/image-info.js";
import { AttachmentEncryptor, type EncryptedFileInfo } from "../matrix/attachment-crypto.js";
import { MatrixMediaError, MatrixMediaErrorCode } from "../matrix/media.js";
import { postEdit, postMessage } from "./from-skype.js";
import type { Portal } from "./portal.js";

const log = new Logger("bridge.portal.skype.media");

/** Attempts of a download that fails for a network reason before the notice. */
const NETWORK_ATTEMPTS = 3;
/** A thumbnail larger than this is not worth it. */
const MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024;

const KIND_WORDS: Record<MediaKind, string> = {
  image: "an image",
  video: "a video",
  audio: "a voice message",
  file: "a file",
};

const MSGTYPES: Record<MediaKind, string> = {
  image: "m.image",
  video: "m.video",
  audio: "m.audio",
  file: "m.file",
};

/** 1536 → "1.5 KB" (decimal units, as file managers show them). */
export function humanSize(bytes: number): string {
  if (bytes < 1000) return bytes === 1 ? "1 byte" : `${bytes} bytes`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = bytes;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** The notice posted (as the sender's puppet) for media that could not be brought over. */
export function mediaNotice(kind: MediaKind, name: string | undefined, why: string): Record<string, unknown> {
  const what = KIND_WORDS[kind];
  const named = name ? ` ("${name}")` : "";
  return {
    msgtype: "m.notice",
    body: `Sent ${what}${named} on Skype, which did not come through: ${why}`,
    "m.mentions": {},
  };
}

/** Why a media failure happened, in words for the reader, by error code. */
const REASONS: ReadonlyMap<string, string> = new Map([
  [SkypeErrorCode.MediaNotFound, "Skype no longer has it."],
  [SkypeErrorCode.MediaForbidden, "Skype does not let this account open it."],
  [SkypeErrorCode.MediaNotReady, "Skype did not have it ready in time."],
  [
    SkypeErrorCode.MediaForeignHost,
    "it is stored on a server other than the configured Skype object service, so the bridge did not fetch it.",
  ],
  [SkypeErrorCode.BadCredentials, "the Skype sign-in is no longer valid."],
]);

function reason(e: unknown, obj: UriObject, limit: number): string {
  const code = e instanceof SkypeError || e instanceof MatrixMediaError ? e.code : undefined;
  if (code === SkypeErrorCode.MediaTooLarge || code === MatrixMediaErrorCode.TooLarge) {
    // The declared size only when it is what showed the object too large (a sender may understate it).
    const size = obj.size !== undefined && obj.size > limit ? `${humanSize(obj.size)}; ` : "";
    return `it is too large (${size}this Matrix server takes at most ${humanSize(limit)}).`;
  }
  return (code && REASONS.get(code)) ?? "the bridge could not fetch it; ask for it to be sent again.";
}

/** The typed error behind a wrapped one (an upload that failed because its body stream did). */
function causeOf(e: unknown): unknown {
  const cause = e instanceof Error ? e.cause : undefined;
  return cause instanceof SkypeError || cause instanceof MatrixMediaError ? cause : e;
}

function retryable(e: unknown): boolean {
  if (e instanceof MatrixMediaError) return e.retryable;
  return e instanceof SkypeError && e.retryable && e.code === SkypeErrorCode.Network;
}

/** Reads up to `n` bytes of `body` and returns them with a stream that still yields everything. */
async function peek(body: Readable, n: number): Promise<{ head: Buffer; rest: Readable }> {
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let len = 0;
  let ended = false;
  while (len < n) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    chunks.push(r.value);
    len += r.value.length;
  }
  const head = Buffer.concat(chunks, len);
  async function* all(): AsyncGenerator<Buffer> {
    try {
      yield head;
      while (!ended) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      if (!ended) await it.return?.();
    }
  }
  return { head, rest: Readable.from(all(), { objectMode: false }) };
}

/** A generic type from the file name, for files the service sent without one. */
function mimeFromName(name: string | undefined, fallback: string): string {
  const ext = /\.([a-z0-9]{1,5})$/i.exec(name ?? "")?.[1]?.toLowerCase();
  const known: Record<string, string> = {
    txt: "text/plain",
    pdf: "application/pdf",
    zip: "application/zip",
    mp4: "video/mp4",
    mp3: "audio/mpeg",
    m4a: "audio/mp4",
    ogg: "audio/ogg",
    png: "image/png",
    jpg: "image/jpeg",
    jpeg: "image/jpeg",
    gif: "image/gif",
    webp: "image/webp",
  };
  return (ext && known[ext]) ?? fallback;
}

interface Uploaded {
  mxc: string;
  size: number;
  mimetype: string;
  image?: ImageInfo;
  /** Uploaded encrypted (an encrypted room): the event's `file` object, less `url`. */
  file?: EncryptedFileInfo;
}

/**
 * Whether media for `roomId` are uploaded encrypted: with end-to-bridge encryption on, in a room
 * with `m.room.encryption` (asked as `asUser`, who is in it). When that cannot be told, encrypted:
 * clients read encrypted attachments in any room, while a clear one in an encrypted room leaks.
 */
async function encryptsMedia(p: Portal, roomId: string, asUser: string): Promise<boolean> {
  if (!p.bridge.config.encryption.enabled) return false;
  try {
    return (await p.bridge.matrix.getState(asUser, roomId, "m.room.encryption", "")) !== undefined;
  } catch {
    return true;
  }
}

/** Downloads one view and pipes it into the media repository as `uploader`. */
async function transfer(
  p: Portal,
  session: Session,
  obj: UriObject,
  uploader: string,
  opts: { limit: number; thumbnail?: boolean; encrypted?: boolean },
): Promise<Uploaded> {
  const dl = await session.downloadMedia!(obj, { maxBytes: opts.limit, thumbnail: opts.thumbnail });
  const { head, rest } = await peek(dl.body, 32);
  const sniffed = sniffImage(head);
  const served = dl.contentType?.split(";")[0]?.trim().toLowerCase();
  const generic = !served || served === "application/octet-stream";
  const mimetype =
    sniffed?.mimetype ?? (generic ? mimeFromName(obj.name, "application/octet-stream") : served);
  const tap = new HeadTap();
  let streamError: unknown;
  const onEnd = (e: NodeJS.ErrnoException | null): void => {
    if (e) streamError = e;
  };
  // Encrypted: the homeserver gets neither the bytes nor the name or type (they are in the event).
  const encryptor = opts.encrypted ? new AttachmentEncryptor() : undefined;
  if (encryptor) pipeline(rest, tap, encryptor, onEnd);
  else pipeline(rest, tap, onEnd);
  let mxc: string;
  try {
    mxc = await p.bridge.media.upload(
      uploader,
      encryptor ?? tap,
      encryptor
        ? { contentType: "application/octet-stream", size: dl.size }
        : { contentType: mimetype, filename: obj.name, size: dl.size },
    );
  } catch (e) {
    // A download that failed mid-way (too large, cut) shows up as a failed upload: report the cause.
    throw streamError ?? causeOf(e);
  }
  const out: Uploaded = { mxc, size: dl.size ?? tap.bytes, mimetype };
  if (encryptor) out.file = encryptor.info();
  if (sniffed) out.image = sniffImage(tap.head) ?? sniffed;
  return out;
}

/** A thumbnail, when Skype has one distinct from the full image; undefined otherwise (best effort). */
async function thumbnail(
  p: Portal,
  session: Session,
  obj: UriObject,
  uploader: string,
  fullSize: number,
  encrypted: boolean,
): Promise<Record<string, unknown> | undefined> {
  if (obj.kind !== "image" || obj.thumbnailView === undefined || !session.mediaStatus) return undefined;
  try {
    const st = await session.mediaStatus(obj, obj.thumbnailView);
    const len = st.contentLength;
    if (st.viewState !== "ready" || len === undefined || len === 0 || len === fullSize) return undefined;
    if (len > MAX_THUMBNAIL_BYTES) return undefined;
    const t = await transfer(p, session, obj, uploader, {
      limit: MAX_THUMBNAIL_BYTES,
      thumbnail: true,
      encrypted,
    });
    if (!t.image) return undefined;
    const info: Record<string, unknown> = { mimetype: t.mimetype, size: t.size };
    if (t.image.w !== undefined) Object.assign(info, { w: t.image.w, h: t.image.h });
    return t.file
      ? { thumbnail_file: { ...t.file, url: t.mxc }, thumbnail_info: info }
      : { thumbnail_url: t.mxc, thumbnail_info: info };
  } catch (e) {
    log.debug("no thumbnail", { error: errorText(e) });
    return undefined;
  }
}

/**
 * The Matrix content for a received URIObject message: the media event, or a notice saying why it
 * is not there. `uploader` is the puppet that will post it (media are uploaded as it).
 * Throws only what the caller should retry (the homeserver away for long).
 */
export async function mediaToMatrix(
  p: Portal,
  media: MediaContent,
  uploader: string,
  roomId?: string,
): Promise<Record<string, unknown>> {
  if (!media.ok) {
    log.warn("an unreadable URIObject", { user: p.receiver, code: media.code });
    return mediaNotice("file", undefined, "the bridge could not read the message.");
  }
  const obj = media.object;
  const session = p.bridge.sessions.get(p.receiver);
  let limit = 0;
  try {
    limit = await p.bridge.media.uploadLimit();
    if (!session?.downloadMedia) throw new SkypeError(SkypeErrorCode.NotConnected, "no session", true);
    if (obj.size !== undefined && obj.size > limit)
      throw new MatrixMediaError(MatrixMediaErrorCode.TooLarge, "over the homeserver's limit");
    const encrypted = roomId !== undefined && (await encryptsMedia(p, roomId, uploader));
    const up = await withNetworkRetries(() => transfer(p, session, obj, uploader, { limit, encrypted }));
    return await describe(p, session, obj, uploader, up);
  } catch (e) {
    log.warn("a Skype image or file was not bridged", {
      user: p.receiver,
      kind: obj.kind,
      code: e instanceof SkypeError || e instanceof MatrixMediaError ? e.code : undefined,
      error: errorText(e),
    });
    return mediaNotice(obj.kind, obj.name, reason(e, obj, limit));
  }
}

async function withNetworkRetries<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!retryable(e) || attempt + 1 >= NETWORK_ATTEMPTS) throw e;
      await sleep(backoffDelay(attempt, { initialMs: 1000, maxMs: 8000, jitter: 0.2 }));
    }
  }
}

async function describe(
  p: Portal,
  session: Session,
  obj: UriObject,
  uploader: string,
  up: Uploaded,
): Promise<Record<string, unknown>> {
  const name = obj.name ?? (obj.kind === "image" ? "image" : "file");
  // An "image" whose bytes are no image we know is posted as a file: clients would show it broken.
  const kind: MediaKind = obj.kind === "image" && !up.image ? "file" : obj.kind;
  const info: Record<string, unknown> = { mimetype: up.mimetype, size: up.size };
  if (kind === "image" && up.image?.w !== undefined) Object.assign(info, { w: up.image.w, h: up.image.h });
  else if (obj.width !== undefined && kind !== "file") Object.assign(info, { w: obj.width, h: obj.height });
  if (kind === "image")
    Object.assign(info, await thumbnail(p, session, obj, uploader, up.size, up.file !== undefined));
  const where = up.file ? { file: { ...up.file, url: up.mxc } } : { url: up.mxc };
  return { msgtype: MSGTYPES[kind], body: name, filename: name, ...where, info, "m.mentions": {} };
}

/**
 * An image or a file message: as handleMessage does for text (skip what is bridged, post as the
 * sender's puppet with a txn id from the Skype ids and the arrival time, record, advance the cursor),
 * with the media content — or the notice saying why it is missing — as what is posted.
 */
export async function handleMedia(p: Portal, e: MessageEvent, media: MediaContent): Promise<void> {
  if (p.alreadyBridged(e)) return p.advanceCursor(e);
  const roomId = await p.ensureRoom(e);
  const speaker = await p.speaker(e, roomId);
  const content = await mediaToMatrix(p, media, speaker.mxid, roomId);
  await postMessage(p, e, roomId, speaker, content);
}

/**
 * An edit whose new content is an image or a file: `m.replace` of the original with the new media
 * as `m.new_content` (by the puppet that posted it, or the user's real account when double-puppeted),
 * or, for a message the user sent from Matrix, a reply carrying the new media (their event cannot be
 * replaced by anyone else). Sender, time and record as for text edits (from-skype.ts `postEdit`).
 */
export async function handleMediaEdit(
  p: Portal,
  e: EditEvent,
  media: MediaContent,
  original: MessageRow,
): Promise<void> {
  const ownId = e.clientMessageId === e.editedId ? e.clientMessageId : undefined;
  await postEdit(p, e, original, ownId, async (sender, replace) => {
    const next = await mediaToMatrix(p, media, sender, original.roomId);
    return replace
      ? {
          ...next,
          body: `* ${String(next.body)}`,
          "m.new_content": next,
          "m.mentions": {},
          "m.relates_to": { rel_type: "m.replace", event_id: original.eventId },
        }
      : { ...next, "m.relates_to": { "m.in_reply_to": { event_id: original.eventId } } };
  });
}
