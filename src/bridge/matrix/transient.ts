// SPDX-License-Identifier: Apache-2.0
/**
 * Transient failures of the bridge's own work, and their in-place retry. Transient means the same
 * call may succeed later without anyone doing anything: today, the database staying locked past
 * its busy timeout (another writer, a checkpoint). Matrix being away is not in this list: Matrix
 * calls wait for the homeserver themselves (matrix/errors.ts `withRetry`).
 *
 * The retry happens where the event already holds its place in line (the inbox's room lane, the
 * portal's queue), so later events of that room or portal wait behind it and order holds; other
 * rooms and portals go on. It is bounded: an event that keeps failing is given up and reported,
 * never retried for ever.
 */
import { StoreError } from "../../store/errors.js";
import { type BackoffOptions, backoffDelay, sleep as realSleep } from "../../util/backoff.js";
import { errorText, type Logger } from "../../util/logger.js";

/** How often, and how far apart, a transient failure is retried. */
export interface TransientRetryPolicy {
  /** Attempts in all, the first included (at least 1). */
  readonly attempts: number;
  readonly backoff: BackoffOptions;
  /** How to wait (tests pass one that does not). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Eight attempts over about half a minute: longer than any sane lock, short enough to report. */
export const TRANSIENT_RETRY: TransientRetryPolicy = {
  attempts: 8,
  backoff: { initialMs: 250, maxMs: 15_000, jitter: 0.2 },
};

/** True when `e` may go away by itself (the database is busy). */
export function isTransient(e: unknown): boolean {
  return e instanceof StoreError && e.retryable;
}

/**
 * Runs `fn`, retrying it after transient failures with exponential backoff, up to the policy's
 * attempts; any other failure, or the last transient one, is thrown. `onRetry` hears each wait.
 */
export async function retryTransient<T>(
  policy: TransientRetryPolicy,
  fn: () => Promise<T>,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  const wait = policy.sleep ?? realSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || attempt + 1 >= policy.attempts) throw e;
      const delay = backoffDelay(attempt, policy.backoff);
      onRetry?.(e, attempt + 1, delay);
      await wait(delay);
    }
  }
}

/** An `onRetry` that logs each wait as a warning about `what`, with `fields`. */
export function logRetries(
  log: Logger,
  what: string,
  fields: Record<string, unknown>,
): (error: unknown, attempt: number, delayMs: number) => void {
  return (e, attempt, delayMs) =>
    log.warn(`${what} hit a transient failure; retrying`, {
      ...fields,
      attempt,
      delayMs,
      error: errorText(e),
    });
}
