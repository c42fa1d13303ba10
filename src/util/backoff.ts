// SPDX-License-Identifier: Apache-2.0
/** Waiting between attempts: the one exponential backoff of the project, and a sleep. */

/** Exponential backoff: the first delay, the cap, and how much of each delay is random (0–1). */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Fraction of each delay scaled by a random number (0: none, 1: all of it). Default 0. */
  jitter?: number;
}

/**
 * Delay before attempt `attempt` (0-based): `min(maxMs, initialMs·2^attempt)`, of which the
 * `jitter` fraction is scaled by `random()`.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exp = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0));
  if (jitter === 0) return exp;
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(exp * (1 - jitter) + exp * jitter * r);
}

/** Waits `ms` (a timer that does not keep the process alive). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
