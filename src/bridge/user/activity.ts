// SPDX-License-Identifier: Apache-2.0
/**
 * When each linked user was last active (a Matrix event they sent to the bridge, or a message on
 * their Skype session), for `admin users`. Kept in memory and written to store.meta at most once a
 * minute per user, so a busy chat costs no database write per message and a restart keeps a
 * recent value.
 */
import type { Session } from "../../sessions/types.js";
import type { Store } from "../../store/types.js";
import { Logger, errorText } from "../../util/logger.js";

const log = new Logger("bridge.activity");

const metaKey = (mxid: string): string => `bridge.last_activity.${mxid}`;
/** How often one user's activity is written at most. */
const PERSIST_EVERY_MS = 60_000;

export class ActivityLog {
  private readonly seen = new Map<string, number>();
  private readonly written = new Map<string, number>();
  private readonly attached = new WeakSet<Session>();

  constructor(
    private readonly store: Pick<Store, "meta" | "users">,
    private readonly now: () => number = Date.now,
  ) {}

  /** Follows a session's messages (idempotent). */
  attach(session: Session): void {
    if (this.attached.has(session)) return;
    this.attached.add(session);
    session.on("message", () => this.touch(session.mxid));
  }

  /** Notes that `mxid` was active now; only linked users (with a row in the store) are kept. */
  touch(mxid: string): void {
    const now = this.now();
    this.seen.set(mxid, now);
    if (now - (this.written.get(mxid) ?? 0) < PERSIST_EVERY_MS) return;
    this.written.set(mxid, now);
    try {
      if (this.store.users.get(mxid)) this.store.meta.set(metaKey(mxid), String(now));
      else this.seen.delete(mxid);
    } catch (e) {
      log.debug("could not record activity", { user: mxid, error: errorText(e) });
    }
  }

  /** When `mxid` was last active (ms), if known. */
  last(mxid: string): number | undefined {
    const mem = this.seen.get(mxid);
    if (mem !== undefined) return mem;
    const stored = Number(this.store.meta.get(metaKey(mxid)));
    return Number.isFinite(stored) && stored > 0 ? stored : undefined;
  }
}
