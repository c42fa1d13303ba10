// SPDX-License-Identifier: Apache-2.0
/**
 * HTTP helpers of the Skype client, on undici `request` with an injectable Dispatcher.
 * Every request has a timeout, honours the caller's AbortSignal, reads at most a bounded number
 * of bytes, and never puts a URL query (tokens) or a body in a log line or an error message.
 */
import type { Readable } from "node:stream";
import { request, type Dispatcher } from "undici";
import { ProtocolParseError, SkypeError, SkypeErrorCode } from "./errors.js";
import { silentLogger, type SkypeLogger } from "./log.js";
import { discardStream } from "../util/streams.js";

/** Transport options shared by every HTTP-using part of the client. */
export interface HttpOptions {
  /** undici dispatcher (an Agent, a MockAgent, a proxy); the global one when absent. */
  dispatcher?: Dispatcher;
  /** Whole-request timeout in milliseconds (headers and body). Default 30 000. */
  timeoutMs?: number;
  /** Largest response body accepted, in bytes. Default 8 MiB. */
  maxResponseBytes?: number;
  logger?: SkypeLogger;
  /** `User-Agent` header. */
  userAgent?: string;
}

/** One request. `what` names the operation in logs and errors ("rps/me", "ABCH AddMember"). */
export interface HttpRequest {
  method: "GET" | "POST";
  url: string;
  what: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** Overrides HttpOptions.maxResponseBytes for this request. */
  maxResponseBytes?: number;
  /** Error code when the body is over the limit (default Parse; XML callers use UnsafeXml). */
  tooLargeCode?: SkypeErrorCode;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const DEFAULT_USER_AGENT = "Mozilla/5.0 (Windows NT 6.1; WOW64) Skype/6.16 (skype-matrix-bridge)";

/** The URL without query or fragment: safe to log. */
export function loggableUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

/**
 * Sends one request and reads the whole (bounded) body. Redirects are never followed.
 * @throws SkypeError `Network` (retryable) on connection failures and timeouts, `Aborted` when the
 *   caller's signal fired, `InvalidArgument` for a malformed URL, the `tooLargeCode` for an oversized body.
 */
export async function httpRequest(opts: HttpOptions, req: HttpRequest): Promise<HttpResponse> {
  const log = opts.logger ?? silentLogger;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const limit = req.maxResponseBytes ?? opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new SkypeError(SkypeErrorCode.InvalidArgument, `${req.what}: the configured URL is invalid`, false);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new SkypeError(
      SkypeErrorCode.InvalidArgument,
      `${req.what}: only http(s) URLs are supported`,
      false,
    );
  }
  if (req.signal?.aborted) throw new SkypeError(SkypeErrorCode.Aborted, `${req.what}: aborted`, false);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const started = Date.now();
  const headers: Record<string, string> = {
    "user-agent": opts.userAgent ?? DEFAULT_USER_AGENT,
    ...req.headers,
  };
  try {
    const res = await request(url, {
      method: req.method,
      headers,
      body: req.body ?? null,
      dispatcher: opts.dispatcher,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const body = await readBounded(res.body, res.headers["content-length"], limit, req);
    log.debug("http", {
      what: req.what,
      method: req.method,
      url: loggableUrl(req.url),
      status: res.statusCode,
      ms: Date.now() - started,
    });
    return { status: res.statusCode, headers: res.headers, body };
  } catch (e) {
    throw mapTransportError(e, req, timeout, timeoutMs);
  }
}

async function readBounded(
  body: Readable,
  contentLength: string | string[] | undefined,
  limit: number,
  req: HttpRequest,
): Promise<Buffer> {
  const tooLarge = (): SkypeError =>
    new ProtocolParseError(
      req.tooLargeCode ?? SkypeErrorCode.Parse,
      `${req.what}: the response is larger than ${limit} bytes`,
    );
  const declared = typeof contentLength === "string" ? Number(contentLength) : NaN;
  if (Number.isFinite(declared) && declared > limit) {
    discardStream(body);
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      body.destroy();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

export function mapTransportError(
  e: unknown,
  req: HttpRequest,
  timeout: AbortSignal,
  timeoutMs: number,
): SkypeError {
  if (e instanceof SkypeError) return e;
  if (req.signal?.aborted) {
    return new SkypeError(SkypeErrorCode.Aborted, `${req.what}: aborted`, false, { cause: e });
  }
  if (timeout.aborted) {
    return new SkypeError(SkypeErrorCode.Network, `${req.what}: no answer within ${timeoutMs} ms`, true);
  }
  const code = (e as { code?: unknown } | null)?.code;
  const detail = typeof code === "string" ? code : e instanceof Error ? e.name : "unknown error";
  return new SkypeError(SkypeErrorCode.Network, `${req.what}: network error (${detail})`, true, { cause: e });
}

/** Throws the right typed error for a status that is not the expected one: 5xx and 429 retryable. */
export function unexpectedStatus(what: string, status: number): SkypeError {
  if (status >= 500 || status === 429 || status === 408) {
    return new SkypeError(SkypeErrorCode.Network, `${what}: server error (HTTP ${status})`, true);
  }
  return new SkypeError(SkypeErrorCode.HttpStatus, `${what}: unexpected HTTP ${status}`, false);
}

/** The first value of a response header. */
export function headerValue(headers: HttpResponse["headers"], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Encodes a form (`application/x-www-form-urlencoded`). Values are percent-encoded in full, so
 * tokens with `+ / =` survive (PROFILE §5).
 */
export function formEncode(fields: ReadonlyArray<readonly [string, string]>): string {
  return fields.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
}

/** A minimal cookie jar: name → value from `Set-Cookie`, sent back as one `Cookie` header. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Stores the cookies of a response (attributes such as Path and Expires are ignored). */
  take(headers: HttpResponse["headers"]): void {
    const raw = headers["set-cookie"];
    const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const line of list) {
      const pair = line.split(";")[0] ?? "";
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }

  /** The `Cookie` header value, or undefined when the jar is empty. */
  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}
