// SPDX-License-Identifier: Apache-2.0
/**
 * Matrix → Skype images and files, as the durable outbox dispatches them (PROFILE §7.2, §7.3): the
 * `mxc://` content is downloaded from the homeserver (authenticated media first) and piped into a
 * new object of the user's session — created with the conversation in its permissions — and only
 * then is the URIObject message sent, with the entry's Client-Message-ID. Nothing is held whole in
 * memory. The upload is redone if the bridge restarts before Skype confirmed the message.
 */
import type { Session } from "../../sessions/types.js";
import type { UploadedMedia } from "../../sessions/media.js";
import { SkypeError, SkypeErrorCode } from "../../skype/errors.js";
import { discardStream } from "../../util/streams.js";
import type { Bridge } from "../bridge.js";
import { MatrixMediaError, MatrixMediaErrorCode } from "../matrix/media.js";
import { humanSize } from "./from-skype-media.js";
import { failureReason } from "./not-bridged.js";
import type { MediaPayload } from "./outbox-payload.js";
import { AttachmentDecryptor } from "../matrix/attachment-crypto.js";

/** The largest file sent to Skype: the object service's default limit (PROFILE §7.2 [A]). */
export const MAX_TO_SKYPE_BYTES = 100 * 1024 * 1024;

/**
 * Downloads the payload's content and uploads it into a new object readable by `conversation`.
 * @throws MatrixMediaError (download), MediaError / SkypeError (object service).
 */
export async function uploadForSkype(
  ctx: Pick<Bridge, "media" | "botUserId">,
  session: Session,
  conversation: string,
  p: MediaPayload,
): Promise<UploadedMedia> {
  if (!session.uploadMedia || !session.sendMedia)
    throw new SkypeError(SkypeErrorCode.InvalidArgument, "this session cannot send files", false);
  const dl = await ctx.media.download(ctx.botUserId, p.url, MAX_TO_SKYPE_BYTES);
  // A download cut or over the cap fails the upload that reads it: report the download's error.
  let streamError: unknown;
  dl.body.once("error", (e) => (streamError = e));
  // An encrypted file is decrypted as it streams; a hash mismatch at its end fails the upload.
  const body = p.file ? dl.body.pipe(new AttachmentDecryptor(p.file)) : dl.body;
  if (body !== dl.body) {
    dl.body.once("error", (e) => body.destroy(e));
    body.once("error", (e) => (streamError ??= e));
  }
  try {
    return await session.uploadMedia(conversation, {
      kind: p.media,
      name: p.name,
      body,
      size: dl.size,
      contentType: p.mimetype ?? (p.file ? "application/octet-stream" : dl.contentType),
    });
  } catch (e) {
    discardStream(dl.body);
    if (body !== dl.body) discardStream(body);
    throw streamError ?? e;
  }
}

/** Whether a failed upload may work later: the homeserver or Skype away, not a refusal. */
export function mediaRetryable(e: unknown): boolean {
  if (e instanceof MatrixMediaError) return e.retryable;
  return e instanceof SkypeError && e.retryable;
}

/** Why a file did not reach Skype, in words for the sender, by error code. */
const REASONS: ReadonlyMap<string, string> = new Map([
  [MatrixMediaErrorCode.TooLarge, `it is larger than the ${humanSize(MAX_TO_SKYPE_BYTES)} Skype takes.`],
  [SkypeErrorCode.MediaTooLarge, "Skype's object service refused its size."],
  [MatrixMediaErrorCode.NotFound, "the homeserver no longer has its content."],
  [SkypeErrorCode.MediaForbidden, "Skype's object service did not allow the upload."],
]);

export function mediaFailureReason(e: unknown): string {
  const code = e instanceof MatrixMediaError || e instanceof SkypeError ? e.code : undefined;
  return (code && REASONS.get(code)) ?? failureReason(e);
}

/**
 * Sends the uploaded object as the entry's message (with `editedId`, replacing that message). Never
 * throws (see Session.sendMedia).
 */
export function sendUploaded(
  session: Session,
  conversation: string,
  clientMessageId: string,
  uploaded: UploadedMedia,
  editedId?: string,
): ReturnType<NonNullable<Session["sendMedia"]>> {
  return session.sendMedia!(conversation, uploaded, clientMessageId, editedId);
}
