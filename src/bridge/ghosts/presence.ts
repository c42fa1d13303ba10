// SPDX-License-Identifier: Apache-2.0
/**
 * Skype presence on puppets, and only while someone can vouch for it.
 *
 * - Presence is per person across every linked user. Each linked user's session (a "viewer") says
 *   what it sees of each identity (who sees whom: presence-reports.ts); a person shows the best
 *   state any viewer sees on any of their identities (online > unavailable > offline), with the
 *   mood of the latest such report.
 * - A session that ends (logout, unlink, stop, refused sign-in) vouches for nobody any more: a
 *   person no other linked user sees goes offline, and the ended session's late events are ignored
 *   until it connects again.
 * - A reconnect rebuilds presence from what the server says. The server sends the document of
 *   every visible contact when a connection subscribes to presence (`PUT MSGR\SUBSCRIPTIONS`, PROFILE
 *   §3); the MSNP client does that before `GET MSGR\RECENTCONVERSATIONS` and catch-up, so every
 *   re-announcement has arrived by the session's `caughtUp`. At `connected` the viewer's entries
 *   become unconfirmed; what is still unconfirmed at `caughtUp` is dropped.
 * - A connection down longer than `staleAfterMs` vouches for nobody either: after a short drop the
 *   last word still stands, after a long one it is too old to show.
 * - Writes are bounded (presence-writes.ts): the latest state per person, a few at a time. Non-offline
 *   presence is re-sent every `refreshMs` (Synapse times it out otherwise, matrix-conventions §3.6),
 *   one round at a time, by one interval timer.
 */
import type { SessionState } from "../../sessions/types.js";
import type { PersonMerge } from "../../store/types.js";
import { Logger, errorText } from "../../util/logger.js";
import type { Bridge } from "../bridge.js";
import { matrixErrorText } from "../matrix/errors.js";
import { PresenceReports, type MatrixPresence, type Report, type Shown } from "./presence-reports.js";
import { PresenceWrites } from "./presence-writes.js";
import type { Puppets } from "./puppets.js";

export type { MatrixPresence } from "./presence-reports.js";

const log = new Logger("bridge.presence");

/** Skype status → Matrix presence: NLN online; AWY, IDL, BSY unavailable; HDN, FLN (and unknown) offline. */
export function matrixPresence(status: string, endpoints?: number): MatrixPresence {
  if (endpoints === 0) return "offline";
  switch (status.trim().toUpperCase()) {
    case "NLN":
      return "online";
    case "AWY":
    case "IDL":
    case "BSY":
      return "unavailable";
    default:
      return "offline";
  }
}

/** A presence report as sessions emit it. */
export interface SkypePresence {
  identity: string;
  status: string;
  mood?: string;
  endpoints?: number;
}

export interface PresenceOptions {
  /** How often non-offline presence is re-sent; 0 turns the refresh off. */
  refreshMs: number;
  /** Presence writes at once. */
  concurrency: number;
  /** How long a dropped connection's last word still stands. */
  staleAfterMs: number;
}

export class PuppetPresence {
  /** Who sees whom. */
  private readonly reports = new PresenceReports();
  /** Viewers whose session ended: ignored until they connect again. */
  private readonly ended = new Set<string>();
  /** One timer per viewer whose connection is down. */
  private readonly staleTimers = new Map<string, NodeJS.Timeout>();
  /** person id → what was last written to their puppet (and its mxid). */
  private readonly written = new Map<string, Shown & { mxid: string }>();
  /** Persons whose last write failed: the next refresh round retries them. */
  private readonly failed = new Set<string>();
  private readonly writes: PresenceWrites;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly bridge: Bridge,
    private readonly puppets: Puppets,
    private readonly opts: PresenceOptions,
  ) {
    this.writes = new PresenceWrites(opts.concurrency, (id, refresh) => this.write(id, refresh));
    puppets.onMerged((survivor, merge) => this.merged(survivor.id, merge));
  }

  /** `viewer`'s session reported the presence of `ev.identity`. Never throws. */
  report(viewer: string, ev: SkypePresence): void {
    if (this.ended.has(viewer)) return;
    try {
      const person = this.puppets.personFor(ev.identity);
      const presence = matrixPresence(ev.status, ev.endpoints);
      this.bridge.store.persons.update(person.id, {
        presence: presence === "offline" ? "offline" : ev.status,
      });
      this.reports.set(viewer, ev.identity, { presence, statusMsg: ev.mood?.trim() ?? "" });
      this.schedule(person.id);
    } catch (e) {
      log.warn("could not record a presence change", { identity: ev.identity, error: errorText(e) });
    }
  }

  /**
   * Two persons turned out to be one: the reports on the merged one's identities now count for the
   * survivor (they are kept by identity), and a retired puppet shown online is taken offline, as
   * nothing refreshes it any more. Network I/O; throws on Matrix failures (the caller logs them).
   */
  private async merged(survivorId: string, merge: PersonMerge): Promise<void> {
    const shown = this.written.get(merge.personId);
    this.written.delete(merge.personId);
    this.failed.delete(merge.personId);
    this.schedule(survivorId);
    const retired = merge.retiredPuppetMxid;
    if (retired && shown && shown.presence !== "offline" && !this.stopped)
      await this.bridge.matrix.setPresence(retired, "offline", "");
  }

  /** Follows `viewer`'s session state (see the file comment). Never throws. */
  sessionState(viewer: string, state: SessionState): void {
    switch (state.kind) {
      case "connected":
        this.ended.delete(viewer);
        this.clearStaleTimer(viewer);
        this.reports.unconfirm(viewer);
        return;
      case "transient_disconnect":
        if (this.staleTimers.has(viewer) || this.opts.staleAfterMs <= 0) return;
        this.staleTimers.set(
          viewer,
          setTimeout(() => {
            this.staleTimers.delete(viewer);
            this.drop(viewer, () => true);
          }, this.opts.staleAfterMs).unref(),
        );
        return;
      case "bad_credentials":
      case "logged_out":
        this.ended.add(viewer);
        this.clearStaleTimer(viewer);
        this.drop(viewer, () => true);
        return;
      case "connecting":
        return;
    }
  }

  /** `viewer`'s session finished catch-up: what it did not re-announce is no longer vouched for. */
  caughtUp(viewer: string): void {
    this.drop(viewer, (r) => !r.confirmed);
  }

  /** Forgets `viewer`'s reports that match `which`; their persons are written again. */
  private drop(viewer: string, which: (r: Report) => boolean): void {
    const identities = this.reports.drop(viewer, which);
    let offline = 0;
    for (const identity of identities) {
      try {
        const person = this.puppets.personFor(identity);
        if (this.wanted(person.id).presence === "offline") {
          this.bridge.store.persons.update(person.id, { presence: "offline" });
          offline++;
        }
        this.schedule(person.id);
      } catch (e) {
        log.warn("could not update a person's presence", { identity, error: errorText(e) });
      }
    }
    if (identities.length)
      log.info("presence no longer vouched for", { viewer, identities: identities.length, offline });
  }

  /** What a person's puppet should show: the best report on any of their identities. */
  private wanted(personId: string): Shown {
    const identities = this.bridge.store.persons.identities(personId).map((i) => i.identity);
    return this.reports.best([personId, ...identities]);
  }

  private schedule(personId: string): void {
    if (this.stopped || this.bridge.config.puppets.presence === false) return;
    this.writes.change(personId);
  }

  /**
   * Brings one puppet in line (`refresh`: re-sends what it shows). Never throws: a failure is
   * logged and retried by the next refresh round.
   */
  private async write(personId: string, refresh: boolean): Promise<void> {
    try {
      const last = this.written.get(personId);
      if (refresh && last && !this.failed.has(personId)) {
        if (last.presence !== "offline")
          await this.bridge.matrix.setPresence(last.mxid, last.presence, last.statusMsg);
        return;
      }
      const person = this.puppets.personFor(personId);
      const want = this.wanted(person.id);
      const shown = this.written.get(person.id);
      if (shown && !this.failed.has(person.id) && sameShown(shown, want)) return;
      // A puppet never shown online needs no "offline" (and no registration for it).
      if (!shown && want.presence === "offline" && !this.shownBefore(person.id)) return;
      const puppet = await this.puppets.ensure(person.id);
      await this.bridge.matrix.setPresence(puppet.mxid, want.presence, want.statusMsg);
      this.failed.delete(personId);
      this.failed.delete(person.id);
      this.written.set(person.id, { ...want, mxid: puppet.mxid });
      this.bridge.store.puppets.upsert(person.id, puppet.mxid, { presenceSet: want.presence });
      if (want.presence !== "offline") this.startRefresh();
    } catch (e) {
      this.failed.add(personId);
      log.warn("could not set a puppet's presence", { person: personId, error: matrixErrorText(e) });
    }
  }

  /** True when the store says an earlier run showed the puppet as not offline. */
  private shownBefore(personId: string): boolean {
    const set = this.bridge.store.puppets.get(personId)?.presenceSet;
    return set !== undefined && set !== null && set !== "offline";
  }

  private startRefresh(): void {
    if (this.timer || this.stopped || this.opts.refreshMs <= 0) return;
    this.timer = setInterval(() => void this.refresh(), this.opts.refreshMs);
    this.timer.unref();
  }

  /**
   * One refresh round: re-sends every non-offline presence and retries failed writes. Resolves
   * when the round is done; false (at once) when the previous round is still running.
   */
  async refresh(): Promise<boolean> {
    if (this.stopped) return false;
    const ids = [...this.failed];
    for (const [id, w] of this.written) if (w.presence !== "offline") ids.push(id);
    const started = Date.now();
    const ran = await this.writes.refresh(ids);
    if (!ran) log.warn("the previous presence refresh is still running; skipping a round");
    else {
      const ms = Date.now() - started;
      log.debug("presence refreshed", { puppets: ids.length, ms });
      if (this.opts.refreshMs > 0 && ms > this.opts.refreshMs)
        log.warn("a presence refresh round took longer than the interval", { puppets: ids.length, ms });
    }
    return ran;
  }

  /** Resolves once every write decided so far is done (tests, shutdown). */
  idle(): Promise<void> {
    return this.writes.idle();
  }

  private clearStaleTimer(viewer: string): void {
    clearTimeout(this.staleTimers.get(viewer));
    this.staleTimers.delete(viewer);
  }

  /** Stops the refresh and the timers; queued writes are dropped (a write under way finishes). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const t of this.staleTimers.values()) clearTimeout(t);
    this.staleTimers.clear();
    this.writes.clear();
  }
}

function sameShown(a: Shown, b: Shown): boolean {
  return a.presence === b.presence && a.statusMsg === b.statusMsg;
}
