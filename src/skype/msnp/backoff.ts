// SPDX-License-Identifier: Apache-2.0
/** Reconnect delays and the default clock. */
import type { BackoffOptions, MsnpClock } from "./types.js";

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 5 * 60_000, jitter: 0.5 };

/** The real clock. */
export const systemClock: MsnpClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Delay before reconnect attempt `attempt` (0-based): `min(maxMs, initialMs·2^attempt)`, of which
 * the `jitter` fraction is scaled by `random()`.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const exp = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  const jitter = Math.min(1, Math.max(0, options.jitter));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(exp * (1 - jitter) + exp * jitter * r);
}
