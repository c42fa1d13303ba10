// SPDX-License-Identifier: Apache-2.0
/**
 * Keeps the stored refresh token in step with its rotations. Every token refresh hands out a new
 * refresh token and the old one may stop working, so a write that is lost means a new sign-in after
 * the next restart. A failed write is retried with backoff, a bounded number of times; a newer
 * token supersedes one still being retried (only the newest matters). When the newest cannot be
 * stored, that is reported once (the bridge tells the user); when a later one is stored after such
 * a report, that is reported too.
 */
import { backoffDelay, sleep, type BackoffOptions } from "../util/backoff.js";
import { errorText, type Logger } from "../util/logger.js";

export interface TokenStoreOptions {
  /** Writes of one token before giving up. Default 6. */
  attempts?: number;
  /** Waits between them. Default 1 s doubling to 15 s (31 s in all), a fifth of it random. */
  backoff?: BackoffOptions;
}

/** What the session reports: whether the newest refresh token is stored. */
export interface TokenStoreStatus {
  saved: boolean;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 15_000, jitter: 0.2 };

export class RotatedTokenStore {
  private newest?: string;
  private reported = false;
  private closed = false;
  private readonly attempts: number;
  private readonly backoff: BackoffOptions;

  /**
   * @param write stores a token; throws when the store refuses.
   * @param report called with `saved: false` once the newest token could not be stored, and with
   *   `saved: true` when one is stored after that.
   */
  constructor(
    private readonly write: (token: string) => void,
    private readonly report: (status: TokenStoreStatus) => void,
    private readonly log: Logger,
    opts: TokenStoreOptions = {},
  ) {
    this.attempts = Math.max(1, opts.attempts ?? 6);
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
  }

  /** Stores `token`, retrying. Resolves when stored, superseded, given up or closed; never rejects. */
  async save(token: string): Promise<void> {
    this.newest = token;
    for (let attempt = 1; !this.closed && this.newest === token; attempt++) {
      try {
        this.write(token);
      } catch (e) {
        if (attempt >= this.attempts) return this.givenUp(e);
        this.log.warn("storing the rotated refresh token failed; retrying", {
          attempt,
          error: errorText(e),
        });
        await sleep(backoffDelay(attempt - 1, this.backoff));
        continue;
      }
      if (attempt > 1) this.log.info("the rotated refresh token was stored after retrying", { attempt });
      if (this.reported) {
        this.reported = false;
        this.report({ saved: true });
      }
      return;
    }
  }

  /** Stops writing (the session ended: a late token must not overwrite a newer link or an unlink). */
  close(): void {
    this.closed = true;
  }

  private givenUp(e: unknown): void {
    this.log.error("could not store the rotated refresh token; a restart would need a new sign-in", {
      attempts: this.attempts,
      error: errorText(e),
    });
    if (this.reported) return;
    this.reported = true;
    this.report({ saved: false });
  }
}
