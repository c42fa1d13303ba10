// SPDX-License-Identifier: Apache-2.0
/**
 * The object service client (PROFILE §7.2): create an object with the conversation's permission,
 * upload its content (streamed), poll a view's status until `view_state` is `ready` (bounded, with
 * the project's backoff), and download a view (streamed, with a size cap). Every request carries
 * the Skype token, so every URL is built here from the configured `ams` base and an object id:
 * a URIObject `uri` whose base is another host (or another path) is refused before any request
 * (`SKYPE_MEDIA_FOREIGN_HOST`), `view_location` is never followed, nor is any redirect.
 */
import type { Readable } from "node:stream";
import { request } from "undici";
import { backoffDelay, sleep as defaultSleep, type BackoffOptions } from "../../util/backoff.js";
import { discardStream, limitBytes } from "../../util/streams.js";
import { ProtocolParseError, SkypeError, SkypeErrorCode } from "../errors.js";
import {
  DEFAULT_TIMEOUT_MS,
  httpRequest,
  loggableUrl,
  mapTransportError,
  type HttpOptions,
} from "../http.js";
import { silentLogger } from "../log.js";
import { amsAuthorization, type SkypeTokenSource } from "../skype-token.js";
import { objectUrl, type SentMediaKind } from "./uri-object.js";

/** A typed error of the object service; `code` is one of the `SKYPE_MEDIA_*` codes or a transport one. */
export class MediaError extends SkypeError {
  constructor(code: SkypeErrorCode, message: string, retryable = false, options?: ErrorOptions) {
    super(code, message, retryable, options);
    this.name = "MediaError";
  }
}

/** A view's status (`GET …/views/{view}/status`). */
export interface ViewStatus {
  contentLength?: number;
  contentState?: string;
  viewState?: string;
  originalFilename?: string;
}

/** A download in progress: read `body` to the end or destroy it. */
export interface MediaDownload {
  body: Readable;
  /** `Content-Type` as the service sent it, if any. */
  contentType?: string;
  /** `Content-Length`, when the service sent one. */
  size?: number;
}

export interface AmsClientOptions extends HttpOptions {
  /** The `ams` base (PROFILE §1). */
  ams: string;
  tokens: SkypeTokenSource;
  /** Status polls before a view that is not `ready` is given up. Default 6. */
  readyAttempts?: number;
  /** Waits between polls. Default 500 ms doubling to 4 s (about 11 s in all). */
  readyBackoff?: BackoffOptions;
  /** Timer (tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Idle timeout of a streamed body (no byte for this long). Default 60 s. */
  bodyIdleMs?: number;
}

/** `pish/image` or `sharing/file` (PROFILE §7.2). */
export function objectType(kind: SentMediaKind): string {
  return kind === "image" ? "pish/image" : "sharing/file";
}

/** The upload view of a kind: `imgpsh` for images, `original` for files. */
export function uploadView(kind: SentMediaKind): string {
  return kind === "image" ? "imgpsh" : "original";
}

const OBJECT_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;
const VIEW = /^[a-z0-9_]{1,40}$/;

const DEFAULT_READY_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 4000, jitter: 0.2 };

/** Status answers beyond what an error means: 401 is retried once with a fresh token. */
function statusError(what: string, status: number): SkypeError {
  if (status === 404) return new MediaError(SkypeErrorCode.MediaNotFound, `${what}: no such object or view`);
  if (status === 403) return new MediaError(SkypeErrorCode.MediaForbidden, `${what}: not allowed`);
  if (status === 413)
    return new MediaError(SkypeErrorCode.MediaTooLarge, `${what}: the service refused the size`);
  if (status >= 500 || status === 429 || status === 408)
    return new MediaError(SkypeErrorCode.Network, `${what}: server error (HTTP ${status})`, true);
  return new MediaError(SkypeErrorCode.HttpStatus, `${what}: unexpected HTTP ${status}`);
}

function tooLarge(what: string, limit: number): MediaError {
  return new MediaError(SkypeErrorCode.MediaTooLarge, `${what}: larger than ${limit} bytes`);
}

export class AmsClient {
  private readonly base: URL;
  private readonly sleep: (ms: number) => Promise<void>;

  /** @throws SkypeError `InvalidArgument` when `ams` is not an http(s) URL. */
  constructor(private readonly opts: AmsClientOptions) {
    let base: URL;
    try {
      base = new URL(opts.ams);
    } catch {
      throw new SkypeError(SkypeErrorCode.InvalidArgument, "the ams endpoint is not a URL", false);
    }
    if (base.protocol !== "http:" && base.protocol !== "https:")
      throw new SkypeError(SkypeErrorCode.InvalidArgument, "the ams endpoint is not http(s)", false);
    this.base = base;
    this.sleep = opts.sleep ?? defaultSleep;
  }

  /** The configured base, as URIObjects carry it. */
  get ams(): string {
    return this.opts.ams.replace(/\/+$/, "");
  }

  /**
   * The object id of a URIObject `uri`, which must be `{ams}/v1/objects/{id}` on the configured
   * base (scheme, host, port and path prefix), optionally followed by `/views/…`.
   * @throws MediaError `SKYPE_MEDIA_FOREIGN_HOST` for anything else (no request is made).
   */
  objectIdOf(uri: string): string {
    const foreign = (): MediaError =>
      new MediaError(SkypeErrorCode.MediaForeignHost, "the object is not on the configured object service");
    let u: URL;
    try {
      u = new URL(uri);
    } catch {
      throw foreign();
    }
    if (u.origin !== this.base.origin || u.username !== "" || u.password !== "") throw foreign();
    const prefix = `${this.base.pathname.replace(/\/+$/, "")}/v1/objects/`;
    if (!u.pathname.startsWith(prefix)) throw foreign();
    const rest = u.pathname.slice(prefix.length).split("/");
    let id: string;
    try {
      id = decodeURIComponent(rest[0] ?? "");
    } catch {
      throw foreign();
    }
    if (!OBJECT_ID.test(id) || (rest.length > 1 && rest[1] !== "views")) throw foreign();
    return id;
  }

  private url(objectId: string, suffix = ""): string {
    if (!OBJECT_ID.test(objectId)) throw new MediaError(SkypeErrorCode.InvalidArgument, "not an object id");
    return objectUrl(this.ams, objectId) + suffix;
  }

  /** Runs `fn` with the Skype token; a 401 renews the token once and runs it again. */
  private async authorised<T>(fn: (auth: Record<string, string>) => Promise<T | 401>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.opts.tokens.skypeToken({ forceRefresh: attempt > 0 });
      const res = await fn(amsAuthorization(token));
      if (res !== 401) return res;
      this.opts.tokens.invalidateSkypeToken();
      if (attempt > 0)
        throw new MediaError(SkypeErrorCode.HttpStatus, "object service: the Skype token was refused");
    }
  }

  /**
   * Creates an object readable by the members of `conversation` (PROFILE §7.2).
   * @throws MediaError; SkypeError from the token.
   */
  async create(kind: SentMediaKind, conversation: string, filename?: string): Promise<{ id: string }> {
    const body: Record<string, unknown> = {
      type: objectType(kind),
      permissions: { [conversation]: ["read"] },
    };
    if (kind === "file" && filename !== undefined) body.filename = filename;
    return this.authorised(async (auth) => {
      const res = await httpRequest(this.opts, {
        method: "POST",
        url: `${this.ams}/v1/objects`,
        what: "ams create",
        headers: { ...auth, "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(body),
        maxResponseBytes: 64 * 1024,
      });
      if (res.status === 401) return 401;
      if (res.status !== 201 && res.status !== 200) throw statusError("ams create", res.status);
      let id: unknown;
      try {
        id = (JSON.parse(res.body.toString("utf8")) as { id?: unknown } | null)?.id;
      } catch {
        id = undefined;
      }
      if (typeof id !== "string" || !OBJECT_ID.test(id))
        throw new ProtocolParseError(SkypeErrorCode.Parse, "ams create: the answer has no usable id");
      return { id };
    });
  }

  /**
   * Uploads the content of `view` (`imgpsh` or `original`). `body` is read once: a stream is not
   * retried after a refused token (the token is fetched fresh right before).
   * @throws MediaError (`SKYPE_MEDIA_TOO_LARGE` for 413).
   */
  async upload(
    objectId: string,
    view: string,
    body: Readable | Buffer,
    opts: { size?: number; contentType?: string; signal?: AbortSignal } = {},
  ): Promise<void> {
    if (!VIEW.test(view)) throw new MediaError(SkypeErrorCode.InvalidArgument, "not a view name");
    const url = this.url(objectId, `/content/${view}`);
    const token = await this.opts.tokens.skypeToken();
    const headers: Record<string, string> = {
      ...amsAuthorization(token),
      "content-type": opts.contentType ?? "application/octet-stream",
    };
    if (opts.size !== undefined) headers["content-length"] = String(opts.size);
    const res = await this.stream("ams upload", url, "PUT", headers, body, opts.signal);
    res.body.resume();
    if (res.status === 401) this.opts.tokens.invalidateSkypeToken();
    if (res.status !== 201 && res.status !== 200) throw statusError("ams upload", res.status);
  }

  /** The status of a view. @throws MediaError */
  async status(objectId: string, view: string): Promise<ViewStatus> {
    if (!VIEW.test(view)) throw new MediaError(SkypeErrorCode.InvalidArgument, "not a view name");
    const url = this.url(objectId, `/views/${view}/status`);
    return this.authorised(async (auth) => {
      const res = await httpRequest(this.opts, {
        method: "GET",
        url,
        what: "ams status",
        headers: { ...auth, accept: "application/json" },
        maxResponseBytes: 64 * 1024,
      });
      if (res.status === 401) return 401;
      if (res.status !== 200) throw statusError("ams status", res.status);
      return parseStatus(res.body);
    });
  }

  /**
   * Polls the view's status until `view_state` is `ready`, a bounded number of times.
   * @throws MediaError `SKYPE_MEDIA_NOT_READY` when it never is; others as {@link status}.
   */
  async waitReady(objectId: string, view: string, signal?: AbortSignal): Promise<ViewStatus> {
    const attempts = Math.max(1, this.opts.readyAttempts ?? 6);
    for (let attempt = 0; ; attempt++) {
      const st = await this.status(objectId, view);
      if (st.viewState === "ready") return st;
      if (attempt + 1 >= attempts)
        throw new MediaError(
          SkypeErrorCode.MediaNotReady,
          `the object's ${view} view was not ready after ${attempts} checks`,
        );
      if (signal?.aborted) throw new SkypeError(SkypeErrorCode.Aborted, "ams: aborted", false);
      await this.sleep(backoffDelay(attempt, this.opts.readyBackoff ?? DEFAULT_READY_BACKOFF));
    }
  }

  /**
   * Downloads a view, streamed. More than `maxBytes` (declared or counted) is refused: before the
   * body when declared, else by destroying the stream with a `SKYPE_MEDIA_TOO_LARGE` error.
   * @throws MediaError
   */
  async download(
    objectId: string,
    view: string,
    opts: { maxBytes: number; signal?: AbortSignal },
  ): Promise<MediaDownload> {
    if (!VIEW.test(view)) throw new MediaError(SkypeErrorCode.InvalidArgument, "not a view name");
    const url = this.url(objectId, `/views/${view}`);
    return this.authorised(async (auth) => {
      const res = await this.stream("ams download", url, "GET", auth, undefined, opts.signal);
      if (res.status !== 200) {
        res.body.resume();
        if (res.status === 401) return 401;
        throw statusError("ams download", res.status);
      }
      const declared = Number(res.headers["content-length"]);
      if (Number.isFinite(declared) && declared > opts.maxBytes) {
        discardStream(res.body);
        throw tooLarge("ams download", opts.maxBytes);
      }
      const body = limitBytes(res.body, opts.maxBytes, () => tooLarge("ams download", opts.maxBytes));
      const ct = res.headers["content-type"];
      const out: MediaDownload = { body };
      if (typeof ct === "string" && ct !== "") out.contentType = ct;
      if (Number.isFinite(declared) && declared >= 0) out.size = declared;
      return out;
    });
  }

  /** One streamed request; the caller reads or discards the body. Redirects are not followed. */
  private async stream(
    what: string,
    url: string,
    method: "GET" | "PUT",
    headers: Record<string, string>,
    body: Readable | Buffer | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Readable }> {
    const timeoutMs = this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const headersTimeout = AbortSignal.timeout(Math.max(timeoutMs, 120_000));
    const started = Date.now();
    try {
      const res = await request(url, {
        method,
        headers: { "user-agent": this.opts.userAgent ?? "skype-matrix-bridge", ...headers },
        body: body ?? null,
        dispatcher: this.opts.dispatcher,
        signal: signal ?? undefined,
        headersTimeout: Math.max(timeoutMs, 120_000),
        bodyTimeout: this.opts.bodyIdleMs ?? 60_000,
      });
      (this.opts.logger ?? silentLogger).debug("http", {
        what,
        method,
        url: loggableUrl(url),
        status: res.statusCode,
        ms: Date.now() - started,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (e) {
      throw mapTransportError(e, { method: "GET", url, what, signal }, headersTimeout, timeoutMs);
    }
  }
}

function parseStatus(body: Buffer): ViewStatus {
  let data: unknown;
  try {
    data = JSON.parse(body.toString("utf8"));
  } catch {
    throw new ProtocolParseError(SkypeErrorCode.Parse, "ams status: not JSON");
  }
  if (typeof data !== "object" || data === null)
    throw new ProtocolParseError(SkypeErrorCode.Parse, "ams status: not an object");
  const d = data as Record<string, unknown>;
  const out: ViewStatus = {};
  const len = Number(d.content_length);
  if (Number.isFinite(len) && len >= 0) out.contentLength = len;
  if (typeof d.content_state === "string") out.contentState = d.content_state;
  if (typeof d.view_state === "string") out.viewState = d.view_state;
  if (typeof d.original_filename === "string") out.originalFilename = d.original_filename;
  return out;
}
