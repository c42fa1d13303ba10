// SPDX-License-Identifier: Apache-2.0
/**
 * Tells each user in their management room when their Skype connection changes state, once per
 * change, in the words of `describeState` (alerts as a notifying m.text, the rest as notices).
 *
 * - Quiet when healthy: the first connection after `login` and every restart that reconnects
 *   cleanly say nothing (the login command already answered); "connected" is announced only after
 *   a problem was announced.
 * - A transient disconnect is announced only when it lasts (default 10 s without reconnecting);
 *   the reconnection that follows edits that notice ("… it is back"), so one outage is one notice.
 * - `connecting` is never announced; `logged_out` because of `logout`, shutdown or a stop by the
 *   bridge is not either (the user or the admin did it).
 * - What was last announced is kept in store.meta, so a restart neither repeats nor forgets it.
 */
import { describeRefreshTokenStore, describeState } from "../../sessions/state-messages.js";
import type { Session, SessionState } from "../../sessions/types.js";
import { Logger, errorText } from "../../util/logger.js";
import type { BridgeEnv } from "../bridge.js";

const log = new Logger("bridge.state-notices");

/** `logged_out` reasons the user is not told about. */
const SILENT_LOGOUT_REASONS = new Set(["logout", "stopped", "shutdown"]);

const metaKey = (mxid: string): string => `bridge.state_notice.${mxid}`;
/** The event id of the lost-connection notice an outage's end edits. */
const lossKey = (mxid: string): string => `bridge.state_notice_event.${mxid}`;

export interface StateNoticesOptions {
  /** How long a transient disconnect may last before it is announced. Default 10 s. */
  transientDelayMs?: number;
}

export class StateNotices {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly attached = new WeakSet<Session>();
  private readonly delayMs: number;
  /** Serialises the notices of one user so they arrive in order. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly ctx: Pick<BridgeEnv, "store" | "notifyUser">,
    opts: StateNoticesOptions = {},
  ) {
    this.delayMs = opts.transientDelayMs ?? 10_000;
  }

  /** Subscribes to the session's `state` events (idempotent). */
  attach(session: Session): void {
    if (this.attached.has(session)) return;
    this.attached.add(session);
    session.on("state", (state) => this.onState(session.mxid, state));
    // A renewed sign-in that could not be saved would force a new login after the next restart.
    session.on("refreshTokenStore", (status) => {
      const { text, alert } = describeRefreshTokenStore(status);
      this.send(session.mxid, text, alert);
    });
  }

  /** The kind last announced to the user ("connected" when nothing was). */
  lastAnnounced(mxid: string): string {
    return this.ctx.store.meta.get(metaKey(mxid)) ?? "connected";
  }

  /** Handles one state change of `mxid`'s session. Never throws. */
  onState(mxid: string, state: SessionState): void {
    try {
      this.cancel(mxid);
      const last = this.lastAnnounced(mxid);
      switch (state.kind) {
        case "connecting":
          return;
        case "connected":
        case "bad_credentials":
          if (last !== state.kind) this.announce(mxid, state);
          return;
        case "transient_disconnect":
          if (last === state.kind) return;
          this.timers.set(
            mxid,
            setTimeout(() => {
              this.timers.delete(mxid);
              this.announce(mxid, state);
            }, this.delayMs).unref(),
          );
          return;
        case "logged_out":
          if (state.reason === "logout") this.ctx.store.meta.delete(metaKey(mxid));
          else if (!SILENT_LOGOUT_REASONS.has(state.reason) && last !== state.kind)
            this.announce(mxid, state);
          return;
      }
    } catch (e) {
      log.error("could not handle a session state", { user: mxid, error: errorText(e) });
    }
  }

  private cancel(mxid: string): void {
    const t = this.timers.get(mxid);
    if (t) clearTimeout(t);
    this.timers.delete(mxid);
  }

  private announce(mxid: string, state: SessionState): void {
    const user = this.ctx.store.users.get(mxid);
    const account: { skypename?: string; email?: string } = {};
    if (user?.skypeName) account.skypename = user.skypeName;
    if (user?.accountEmail) account.email = user.accountEmail;
    const { text, alert } = describeState(state, account);
    const last = this.lastAnnounced(mxid);
    this.ctx.store.meta.set(metaKey(mxid), state.kind);
    const loss = this.ctx.store.meta.get(lossKey(mxid));
    this.ctx.store.meta.delete(lossKey(mxid));
    if (state.kind === "connected" && last === "transient_disconnect" && loss !== undefined) {
      this.send(mxid, `The connection to Skype was lost for a while and is back. ${text}`, false, loss);
      return;
    }
    const remember = state.kind === "transient_disconnect";
    this.send(mxid, text, alert, undefined, remember);
  }

  /** Sends a notice to the user's management room, after the ones decided before it. */
  private send(mxid: string, text: string, alert: boolean, replaces?: string, remember = false): void {
    const prev = this.chains.get(mxid) ?? Promise.resolve();
    const next = prev
      .then(async () => {
        const id = await this.ctx.notifyUser(
          mxid,
          text,
          replaces === undefined ? { alert } : { alert, replaces },
        );
        if (remember && typeof id === "string") this.ctx.store.meta.set(lossKey(mxid), id);
      })
      .catch((e: unknown) =>
        log.warn("could not tell the user about their session", { user: mxid, error: errorText(e) }),
      );
    this.chains.set(mxid, next);
    void next.then(() => {
      if (this.chains.get(mxid) === next) this.chains.delete(mxid);
    });
  }

  /** Resolves once every notice decided so far was sent (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.chains.size) await Promise.all([...this.chains.values()]);
  }

  /** Cancels pending transient-disconnect notices. */
  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
