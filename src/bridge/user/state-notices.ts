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
 * - Made for outages that drop everyone at once (a server restart drops all 10,000 sessions of a
 *   large bridge): one timer serves every pending disconnect, notices go out a few at a time across
 *   the bridge, and a lost-connection notice still waiting for its turn when the connection returns
 *   is dropped, along with the "it is back" it would have needed. Sent all at once they were
 *   thousands of timers and Synapse requests competing with the reconnections (BENCHMARKS.md,
 *   cause 11).
 */
import { describeRefreshTokenStore, describeState } from "../../sessions/state-messages.js";
import type { Session, SessionState } from "../../sessions/types.js";
import { ConcurrencyLimit } from "../../util/keyed-queue.js";
import { Logger, errorText } from "../../util/logger.js";
import type { BridgeEnv } from "../bridge.js";

const log = new Logger("bridge.state-notices");

/** `logged_out` reasons the user is not told about. */
const SILENT_LOGOUT_REASONS = new Set(["logout", "stopped", "shutdown"]);

/** Due lost-connection notices decided per turn of the event loop. */
const FIRE_BATCH = 200;

const metaKey = (mxid: string): string => `bridge.state_notice.${mxid}`;
/** The event id of the lost-connection notice an outage's end edits. */
const lossKey = (mxid: string): string => `bridge.state_notice_event.${mxid}`;

export interface StateNoticesOptions {
  /** How long a transient disconnect may last before it is announced. Default 10 s. */
  transientDelayMs?: number;
  /** How many notices are in flight at once across the bridge. Default 4. */
  concurrency?: number;
}

/** A lost-connection notice decided but not yet sent. */
interface QueuedLoss {
  withdrawn: boolean;
  /** What had been announced before it (what stands again if it is withdrawn). */
  before: string;
}

export class StateNotices {
  /**
   * Transient disconnects not yet announced, oldest first, with when each is due. The delay is the
   * same for everyone, so insertion order is deadline order and one timer (for the first) serves all.
   */
  private readonly due = new Map<string, { state: SessionState; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly attached = new WeakSet<Session>();
  private readonly delayMs: number;
  /** Serialises the notices of one user so they arrive in order. */
  private readonly chains = new Map<string, Promise<void>>();
  /** The kind last decided for a user whose notices are still being sent (the store has the rest). */
  private readonly decided = new Map<string, string>();
  private readonly queuedLoss = new Map<string, QueuedLoss>();
  private readonly sending: ConcurrencyLimit;

  constructor(
    private readonly ctx: Pick<BridgeEnv, "store" | "notifyUser">,
    opts: StateNoticesOptions = {},
  ) {
    this.delayMs = opts.transientDelayMs ?? 10_000;
    this.sending = new ConcurrencyLimit(opts.concurrency ?? 4);
  }

  /** Subscribes to the session's `state` events (idempotent). */
  attach(session: Session): void {
    if (this.attached.has(session)) return;
    this.attached.add(session);
    session.on("state", (state) => this.onState(session.mxid, state));
    // A renewed sign-in that could not be saved would force a new login after the next restart.
    session.on("refreshTokenStore", (status) => {
      const { text, alert } = describeRefreshTokenStore(status);
      this.send(session.mxid, () => this.ctx.notifyUser(session.mxid, text, { alert }));
    });
  }

  /** The kind last announced to the user, or decided and on its way ("connected" when none was). */
  lastAnnounced(mxid: string): string {
    return this.decided.get(mxid) ?? this.stored(mxid);
  }

  /** Handles one state change of `mxid`'s session. Never throws. */
  onState(mxid: string, state: SessionState): void {
    try {
      this.due.delete(mxid);
      if (state.kind === "connecting") return;
      // The outage a waiting lost-connection notice was about is over (or became something else).
      if (state.kind !== "transient_disconnect") this.withdrawLoss(mxid);
      const last = this.lastAnnounced(mxid);
      switch (state.kind) {
        case "connected":
        case "bad_credentials":
          if (last !== state.kind) this.announce(mxid, state, last);
          return;
        case "transient_disconnect":
          if (last === state.kind) return;
          this.due.set(mxid, { state, at: Date.now() + this.delayMs });
          this.arm();
          return;
        case "logged_out":
          if (state.reason === "logout") {
            this.decided.delete(mxid);
            this.ctx.store.meta.delete(metaKey(mxid));
          } else if (!SILENT_LOGOUT_REASONS.has(state.reason) && last !== state.kind)
            this.announce(mxid, state, last);
          return;
      }
    } catch (e) {
      log.error("could not handle a session state", { user: mxid, error: errorText(e) });
    }
  }

  private stored(mxid: string): string {
    return this.ctx.store.meta.get(metaKey(mxid)) ?? "connected";
  }

  /** Sets the timer for the first pending disconnect, unless one is set. */
  private arm(): void {
    if (this.timer || this.due.size === 0) return;
    const first = this.due.values().next().value!;
    this.timer = setTimeout(() => this.fireDue(), Math.max(0, first.at - Date.now())).unref();
  }

  private fireDue(): void {
    this.timer = undefined;
    const now = Date.now();
    let handled = 0;
    for (const [mxid, { state, at }] of this.due) {
      if (at > now) break;
      // After an outage thousands fall due together: a few hundred per turn of the event loop, so
      // the reconnections in progress are not held up (one turn of 10,000 took 177 ms; cause 11).
      if (handled++ === FIRE_BATCH) {
        this.timer = setTimeout(() => this.fireDue(), 0).unref();
        return;
      }
      this.due.delete(mxid);
      try {
        this.announce(mxid, state, this.lastAnnounced(mxid));
      } catch (e) {
        log.error("could not announce a lost connection", { user: mxid, error: errorText(e) });
      }
    }
    this.arm();
  }

  private withdrawLoss(mxid: string): void {
    const loss = this.queuedLoss.get(mxid);
    if (!loss) return;
    loss.withdrawn = true;
    this.queuedLoss.delete(mxid);
    this.decided.set(mxid, loss.before);
  }

  /**
   * Decides a notice now; what it says (and whether it edits the lost-connection notice) is worked
   * out when its turn comes, from what was sent before it.
   */
  private announce(mxid: string, state: SessionState, before: string): void {
    this.decided.set(mxid, state.kind);
    const loss: QueuedLoss | undefined =
      state.kind === "transient_disconnect" ? { withdrawn: false, before } : undefined;
    if (loss) this.queuedLoss.set(mxid, loss);
    this.send(mxid, async () => {
      if (loss?.withdrawn) return;
      if (loss && this.queuedLoss.get(mxid) === loss) this.queuedLoss.delete(mxid);
      const { store } = this.ctx;
      const user = store.users.get(mxid);
      const account: { skypename?: string; email?: string } = {};
      if (user?.skypeName) account.skypename = user.skypeName;
      if (user?.accountEmail) account.email = user.accountEmail;
      const { text, alert } = describeState(state, account);
      const last = this.stored(mxid);
      store.meta.set(metaKey(mxid), state.kind);
      const lossEvent = store.meta.get(lossKey(mxid));
      if (lossEvent !== undefined) store.meta.delete(lossKey(mxid));
      if (state.kind === "connected" && last === "transient_disconnect" && lossEvent !== undefined) {
        const back = `The connection to Skype was lost for a while and is back. ${text}`;
        await this.ctx.notifyUser(mxid, back, { alert: false, replaces: lossEvent });
        return;
      }
      const id = await this.ctx.notifyUser(mxid, text, { alert });
      if (loss && typeof id === "string") store.meta.set(lossKey(mxid), id);
    });
  }

  /** Sends a notice to the user's management room, after the ones decided before it, when a slot is free. */
  private send(mxid: string, job: () => Promise<unknown>): void {
    const prev = this.chains.get(mxid) ?? Promise.resolve();
    const next = prev
      .then(() => this.sending.run(job))
      .then(
        () => undefined,
        (e: unknown) =>
          log.warn("could not tell the user about their session", { user: mxid, error: errorText(e) }),
      );
    this.chains.set(mxid, next);
    void next.then(() => {
      if (this.chains.get(mxid) !== next) return;
      // Everything decided was sent (or dropped): the store has the truth again.
      this.chains.delete(mxid);
      this.decided.delete(mxid);
    });
  }

  /** Resolves once every notice decided so far was sent (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.chains.size) await Promise.all([...this.chains.values()]);
  }

  /** Cancels pending transient-disconnect notices. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.due.clear();
  }
}
