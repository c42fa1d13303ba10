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

/** The reconnect delay: the project's one exponential backoff. */
export { backoffDelay } from "../../util/backoff.js";
