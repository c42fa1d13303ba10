// SPDX-License-Identifier: Apache-2.0
/**
 * What a failed Matrix request means (bot-sdk's MatrixError or a network error), and the retry
 * policy of Matrix calls: a homeserver that is away is waited for, a refusal is not retried.
 */
import { sleep } from "../../util/backoff.js";

/** What a failed Matrix request tells us (bot-sdk's MatrixError, or a network error). */
export interface MatrixErrorInfo {
  /** HTTP status; undefined for network errors. */
  status?: number;
  errcode?: string;
  retryAfterMs?: number;
}

/** Reads status / errcode from whatever bot-sdk threw. */
export function matrixErrorInfo(e: unknown): MatrixErrorInfo {
  if (e === null || typeof e !== "object") return {};
  const o = e as {
    statusCode?: unknown;
    errcode?: unknown;
    retryAfterMs?: unknown;
    body?: { errcode?: unknown; retry_after_ms?: unknown };
  };
  const info: MatrixErrorInfo = {};
  if (typeof o.statusCode === "number") info.status = o.statusCode;
  const errcode = typeof o.errcode === "string" ? o.errcode : o.body?.errcode;
  if (typeof errcode === "string") info.errcode = errcode;
  const retry = typeof o.retryAfterMs === "number" ? o.retryAfterMs : o.body?.retry_after_ms;
  if (typeof retry === "number") info.retryAfterMs = retry;
  return info;
}

/** True for failures worth retrying: network errors, 5xx, rate limits. */
export function isRetryableMatrixError(e: unknown): boolean {
  const { status, errcode } = matrixErrorInfo(e);
  if (errcode === "M_LIMIT_EXCEEDED" || status === 429) return true;
  return status === undefined || status >= 500;
}

/**
 * True when the failure says the homeserver is away or overloaded (a socket error code, 5xx, 429),
 * as opposed to an unexplained exception, which must not be retried forever.
 */
export function isHomeserverAway(e: unknown): boolean {
  const { status, errcode } = matrixErrorInfo(e);
  if (status !== undefined) return status >= 500 || status === 429;
  if (errcode === "M_LIMIT_EXCEEDED") return true;
  const code = e !== null && typeof e === "object" ? (e as { code?: unknown }).code : undefined;
  return typeof code === "string" && /^(E[A-Z]+|UND_ERR_)/.test(code);
}

/** True when the homeserver refused because of room membership or power (403). */
export function isForbidden(e: unknown): boolean {
  const { status, errcode } = matrixErrorInfo(e);
  return status === 403 || errcode === "M_FORBIDDEN";
}

/**
 * True when Synapse refused a call made as an appservice user it has no account for (403,
 * "Application service has not registered this user").
 */
export function isUnregisteredUser(e: unknown): boolean {
  if (!isForbidden(e)) return false;
  const error =
    e !== null && typeof e === "object" ? (e as { body?: { error?: unknown } }).body?.error : undefined;
  return typeof error === "string" && /not registered/i.test(error);
}

/** A short, secret-free description of a Matrix failure for logs. */
export function matrixErrorText(e: unknown): string {
  const { status, errcode } = matrixErrorInfo(e);
  if (status !== undefined || errcode !== undefined) return `${errcode ?? "HTTP"} ${status ?? ""}`.trim();
  return e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 200) : "unknown error";
}

/** Retry policy: the delays between attempts (its length + 1 attempts in all). */
export interface RetryPolicy {
  delaysMs: readonly number[];
  /** After the listed delays, keep retrying with the last one (transient failures only). */
  forever?: boolean;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Default: a homeserver that is away (network, 5xx, rate limits) is retried until it is back —
 * the portal's queue waits, so nothing is skipped and order holds; the Skype cursor only moves
 * once a message is posted, so a restart meanwhile resumes from the same place.
 */
export const DEFAULT_RETRY: RetryPolicy = {
  delaysMs: [250, 500, 1000, 2000, 4000, 8000, 15000, 30000, 60000],
  forever: true,
};

/** Runs `fn`, retrying retryable Matrix failures per `policy`; other failures throw at once. */
export async function withRetry<T>(policy: RetryPolicy, fn: () => Promise<T>): Promise<T> {
  const wait = policy.sleep ?? sleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const delay =
        policy.delaysMs[attempt] ??
        (policy.forever && isHomeserverAway(e) ? policy.delaysMs.at(-1) : undefined);
      if (delay === undefined || !isRetryableMatrixError(e)) throw e;
      await wait(Math.max(delay, matrixErrorInfo(e).retryAfterMs ?? 0));
    }
  }
}
