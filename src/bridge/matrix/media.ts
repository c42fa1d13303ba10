// SPDX-License-Identifier: Apache-2.0
/**
 * The homeserver's media repository, streamed both ways (bot-sdk's uploadContent and
 * downloadContent take and give whole Buffers, so a 100 MB file would sit in memory twice):
 * - the upload limit (`m.upload.size` of `/_matrix/client/v1/media/config`, else the legacy
 *   `/_matrix/media/v3/config`), asked once and cached;
 * - uploads as any of our users (`?user_id=`), the body piped from a stream;
 * - downloads of `mxc://` content: authenticated media (`/_matrix/client/v1/media/download`) first,
 *   the legacy `/_matrix/media/v3/download` when the homeserver does not know that endpoint.
 * Requests carry the appservice token; nothing here logs it.
 */
import type { Readable } from "node:stream";
import { request } from "undici";
import { Logger, errorText } from "../../util/logger.js";
import { discardStream, limitBytes } from "../../util/streams.js";

const log = new Logger("bridge.matrix.media");

export const MatrixMediaErrorCode = {
  /** The homeserver refused the size (413), or the content is over the limit we were given. */
  TooLarge: "MATRIX_MEDIA_TOO_LARGE",
  /** No such content (404), or not an `mxc://` URI. */
  NotFound: "MATRIX_MEDIA_NOT_FOUND",
  /** Any other refusal or a network failure. */
  Failed: "MATRIX_MEDIA_FAILED",
} as const;
export type MatrixMediaErrorCode = (typeof MatrixMediaErrorCode)[keyof typeof MatrixMediaErrorCode];

export class MatrixMediaError extends Error {
  constructor(
    readonly code: MatrixMediaErrorCode,
    message: string,
    /** True when the same call may work later (5xx, network). */
    readonly retryable = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "MatrixMediaError";
  }
}

/** A download in progress: read `body` to the end or destroy it. */
export interface MatrixDownload {
  body: Readable;
  contentType?: string;
  size?: number;
}

/** Where the media repository is and how to speak to it. */
export interface MatrixMediaOptions {
  /** The client-server base URL (`http://127.0.0.1:8008`). */
  homeserverUrl: () => string;
  /** The appservice token (as_token). */
  token: () => string;
  /** Used when the homeserver states no limit. Default 100 MiB. */
  defaultLimitBytes?: number;
  /** Whole-call timeout of the small JSON calls, and idle timeout of streamed bodies. Default 60 s. */
  timeoutMs?: number;
}

const DEFAULT_LIMIT_BYTES = 100 * 1024 * 1024;
const MXC = /^mxc:\/\/([^/?#]+)\/([A-Za-z0-9_-]+)$/;

export class MatrixMedia {
  private limit?: Promise<number>;
  private readonly timeoutMs: number;

  constructor(private readonly opts: MatrixMediaOptions) {
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  private get base(): string {
    return this.opts.homeserverUrl().replace(/\/+$/, "");
  }

  private auth(): Record<string, string> {
    return { authorization: `Bearer ${this.opts.token()}` };
  }

  /**
   * The largest upload the homeserver takes (`m.upload.size`), asked once; the default when unstated,
   * or (not cached) when the homeserver cannot be asked now: the upload itself then finds out.
   */
  uploadLimit(): Promise<number> {
    this.limit ??= this.askLimit().catch((e: unknown) => {
      this.limit = undefined;
      log.warn("could not ask the homeserver's upload limit; assuming the default", { error: errorText(e) });
      return this.opts.defaultLimitBytes ?? DEFAULT_LIMIT_BYTES;
    });
    return this.limit;
  }

  private async askLimit(): Promise<number> {
    const fallback = this.opts.defaultLimitBytes ?? DEFAULT_LIMIT_BYTES;
    for (const path of ["/_matrix/client/v1/media/config", "/_matrix/media/v3/config"]) {
      const res = await this.call("GET", path, {});
      const text = await res.body.text();
      if (res.statusCode !== 200) continue;
      let size: unknown;
      try {
        size = (JSON.parse(text) as Record<string, unknown> | null)?.["m.upload.size"];
      } catch {
        size = undefined;
      }
      const n = typeof size === "number" && size > 0 ? size : fallback;
      log.info("homeserver media upload limit", { bytes: n, stated: typeof size === "number" });
      return n;
    }
    return fallback;
  }

  /**
   * Uploads `body` as `userId` and returns the `mxc://` URI. `size` (when known) is sent as
   * Content-Length; the stream is read once.
   * @throws MatrixMediaError
   */
  async upload(
    userId: string,
    body: Readable,
    meta: { contentType: string; filename?: string; size?: number },
  ): Promise<string> {
    const qs: Record<string, string> = { user_id: userId };
    if (meta.filename !== undefined) qs.filename = meta.filename;
    const headers: Record<string, string> = { "content-type": meta.contentType };
    if (meta.size !== undefined) headers["content-length"] = String(meta.size);
    const res = await this.call("POST", "/_matrix/media/v3/upload", qs, headers, body);
    const text = await res.body.text();
    if (res.statusCode === 413)
      throw new MatrixMediaError(MatrixMediaErrorCode.TooLarge, "upload: too large");
    if (res.statusCode !== 200) throw statusError("upload", res.statusCode, text);
    let uri: unknown;
    try {
      uri = (JSON.parse(text) as Record<string, unknown> | null)?.content_uri;
    } catch {
      uri = undefined;
    }
    if (typeof uri !== "string" || !uri.startsWith("mxc://"))
      throw new MatrixMediaError(MatrixMediaErrorCode.Failed, "upload: no content_uri in the answer");
    return uri;
  }

  /**
   * Downloads `mxc` as `userId` (the bot), at most `maxBytes`: authenticated media first, the
   * legacy endpoint when the homeserver does not serve it.
   * @throws MatrixMediaError
   */
  async download(userId: string, mxc: string, maxBytes: number): Promise<MatrixDownload> {
    const m = MXC.exec(mxc);
    if (!m) throw new MatrixMediaError(MatrixMediaErrorCode.NotFound, "not an mxc:// URI");
    const tail = `/${encodeURIComponent(m[1]!)}/${encodeURIComponent(m[2]!)}`;
    const qs = { user_id: userId, allow_redirect: "false" };
    let res = await this.call("GET", `/_matrix/client/v1/media/download${tail}`, qs);
    if (res.statusCode === 404 || res.statusCode === 405 || res.statusCode === 400) {
      const text = await res.body.text();
      // M_UNRECOGNIZED (or a bare 404/405 from an older server): no authenticated media there.
      if (res.statusCode !== 404 || !text.includes("M_NOT_FOUND")) {
        log.debug("authenticated media not served; using the legacy download", { status: res.statusCode });
        res = await this.call("GET", `/_matrix/media/v3/download${tail}`, { allow_redirect: "false" });
      } else {
        throw new MatrixMediaError(MatrixMediaErrorCode.NotFound, "download: no such content");
      }
    }
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => "");
      if (res.statusCode === 404)
        throw new MatrixMediaError(MatrixMediaErrorCode.NotFound, "download: no such content");
      throw statusError("download", res.statusCode, text);
    }
    const declared = Number(res.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBytes) {
      discardStream(res.body);
      throw new MatrixMediaError(MatrixMediaErrorCode.TooLarge, `download: larger than ${maxBytes} bytes`);
    }
    const ct = res.headers["content-type"];
    const tooLarge = (): Error =>
      new MatrixMediaError(MatrixMediaErrorCode.TooLarge, `larger than ${maxBytes} bytes`);
    const out: MatrixDownload = { body: limitBytes(res.body, maxBytes, tooLarge) };
    if (typeof ct === "string" && ct !== "") out.contentType = ct;
    if (Number.isFinite(declared) && declared >= 0) out.size = declared;
    return out;
  }

  private async call(
    method: "GET" | "POST",
    path: string,
    qs: Record<string, string>,
    headers: Record<string, string> = {},
    body?: Readable,
  ): Promise<Awaited<ReturnType<typeof request>>> {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(qs)) url.searchParams.set(k, v);
    try {
      return await request(url, {
        method,
        headers: { ...this.auth(), ...headers },
        body: body ?? null,
        headersTimeout: body ? 10 * this.timeoutMs : this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (e) {
      throw new MatrixMediaError(MatrixMediaErrorCode.Failed, `${method} ${path}: ${errorText(e)}`, true, {
        cause: e,
      });
    }
  }
}

function statusError(what: string, status: number, text: string): MatrixMediaError {
  const errcode = /"errcode"\s*:\s*"([A-Z_]{1,40})"/.exec(text)?.[1];
  const retryable = status >= 500 || status === 429;
  return new MatrixMediaError(
    MatrixMediaErrorCode.Failed,
    `${what}: HTTP ${status}${errcode ? ` ${errcode}` : ""}`,
    retryable,
  );
}
