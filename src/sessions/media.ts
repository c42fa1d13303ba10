// SPDX-License-Identifier: Apache-2.0
/**
 * Images and files for one session (PROFILE §7.2, §7.3), over the protocol's object-service client:
 * download a received object (its `uri` checked against the configured base first, then its view
 * waited for, bounded), and upload an object for a send (created with the conversation in its
 * permissions, then its content streamed) ready to go out as a URIObject message.
 */
import { Transform, pipeline, type Readable } from "node:stream";
import {
  type AmsClient,
  uploadView,
  type MediaDownload,
  type ViewStatus,
} from "../skype/media/ams-client.js";
import {
  mediaMessageType,
  writeUriObject,
  type SentMediaKind,
  type UriObject,
} from "../skype/media/uri-object.js";

export type { MediaDownload, ViewStatus } from "../skype/media/ams-client.js";

/** A file to send: its bytes are read once, streamed to the object service. */
export interface OutgoingFile {
  kind: SentMediaKind;
  name: string;
  body: Readable;
  /** Bytes, when known (sent as Content-Length). */
  size?: number;
  contentType?: string;
}

/** An uploaded object, ready to be sent as a URIObject message. */
export interface UploadedMedia {
  kind: SentMediaKind;
  objectId: string;
  name: string;
  /** Bytes uploaded. */
  size: number;
  /** The Message-Type and URIObject body of the message (PROFILE §7.3). */
  messageType: string;
  xml: string;
}

/** Download options: the size cap, and whether to fetch the thumbnail view instead. */
export interface DownloadOptions {
  maxBytes: number;
  thumbnail?: boolean;
  signal?: AbortSignal;
}

export class SessionMedia {
  constructor(private readonly ams: AmsClient) {}

  /**
   * The object's view (full, or with `thumbnail` the thumbnail view), once ready, streamed.
   * @throws MediaError: `SKYPE_MEDIA_FOREIGN_HOST` before any request, `NOT_FOUND`, `FORBIDDEN`,
   *   `NOT_READY`, `TOO_LARGE`; SkypeError from the token.
   */
  async download(object: UriObject, opts: DownloadOptions): Promise<MediaDownload> {
    const id = this.ams.objectIdOf(object.uri);
    const view = opts.thumbnail ? object.thumbnailView : object.view;
    if (view === undefined) throw new RangeError("this object has no thumbnail view");
    await this.ams.waitReady(id, view, opts.signal);
    return this.ams.download(id, view, { maxBytes: opts.maxBytes, signal: opts.signal });
  }

  /** The status of one of the object's views (no waiting). @throws as {@link download} */
  status(object: UriObject, view: string): Promise<ViewStatus> {
    return this.ams.status(this.ams.objectIdOf(object.uri), view);
  }

  /**
   * Creates the object readable by `conversation` (the contact's identity or the thread id) and
   * uploads `file` into it.
   * @throws MediaError (`SKYPE_MEDIA_TOO_LARGE` when the service refuses the size), SkypeError.
   */
  async upload(conversation: string, file: OutgoingFile): Promise<UploadedMedia> {
    const { id } = await this.ams.create(file.kind, conversation, file.name);
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        done(null, chunk);
      },
    });
    pipeline(file.body, counter, () => undefined);
    await this.ams.upload(id, uploadView(file.kind), counter, {
      size: file.size,
      contentType: file.contentType,
    });
    const xml = writeUriObject({ kind: file.kind, ams: this.ams.ams, objectId: id, name: file.name, size });
    return {
      kind: file.kind,
      objectId: id,
      name: file.name,
      size,
      messageType: mediaMessageType(file.kind),
      xml,
    };
  }
}
