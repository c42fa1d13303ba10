// SPDX-License-Identifier: Apache-2.0
/** The texts of `admin status` and `admin users`: read-only summaries of the bridge and its users. */
import type { SessionManager } from "../../../sessions/types.js";
import type { Store, UserRow } from "../../../store/types.js";
import type { ActivityLog } from "../activity.js";
import type { BridgeStates } from "../bridge-state.js";

export interface OverviewDeps {
  version: string;
  /** When the bridge started (ms). */
  startedAt: number;
  store: Store;
  sessions: Pick<SessionManager, "get">;
  states: Pick<BridgeStates, "current">;
  activity: Pick<ActivityLog, "last">;
  /** Portals (and other serial work) with events queued or running. */
  busyQueues(): number;
  now?: () => number;
}

/** "3 s", "5 min", "2 h 10 min", "4 d 3 h". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Users with a Skype account linked (or a session running). */
function linkedUsers(deps: OverviewDeps): UserRow[] {
  return deps.store.users
    .list()
    .filter((u) => u.hasRefreshToken || u.skypeMri !== null || deps.sessions.get(u.mxid) !== undefined);
}

/** Distinct puppets of the linked users' contacts and DM portals. */
function puppetCount(deps: OverviewDeps, users: readonly UserRow[]): number {
  const { store } = deps;
  const puppets = new Set<string>();
  for (const u of users) {
    for (const p of store.portals.listByReceiver(u.mxid)) {
      const mxid = p.kind === "dm" ? store.puppets.get(p.conversation)?.mxid : undefined;
      if (mxid) puppets.add(mxid);
    }
    for (const c of deps.sessions.get(u.mxid)?.contacts() ?? []) {
      const person = store.persons.getByIdentity(c.identities[0] ?? "");
      const mxid = person && store.puppets.get(person.id)?.mxid;
      if (mxid) puppets.add(mxid);
    }
  }
  return puppets.size;
}

export function adminOverview(deps: OverviewDeps): string {
  const now = (deps.now ?? Date.now)();
  const users = linkedUsers(deps);
  const byState = new Map<string, number>();
  for (const u of users) {
    const s = deps.states.current(u.mxid).state_event;
    byState.set(s, (byState.get(s) ?? 0) + 1);
  }
  const states = [...byState].map(([s, n]) => `${n} ${s}`).join(", ") || "none";
  const portals = users.flatMap((u) => deps.store.portals.listByReceiver(u.mxid));
  const dms = portals.filter((p) => p.kind === "dm").length;
  return [
    `skype-matrix-bridge ${deps.version} (Node ${process.version}), up ${duration(now - deps.startedAt)}.`,
    `Linked users: ${users.length}; sessions: ${states}.`,
    `Portals: ${portals.length} (${dms} DMs, ${portals.length - dms} groups); puppets: ${puppetCount(deps, users)}.`,
    `Queues: ${deps.busyQueues()} portal queues busy, ${deps.store.inbox.pendingCount()} Matrix events waiting in the inbox, ` +
      `${deps.store.outbox.list().length} Skype sends waiting in the outbox.`,
  ].join("\n");
}

/** One line per linked user: MXID, account and identities, bridge state, last activity. */
export function adminUserLines(deps: OverviewDeps): string[] {
  const now = (deps.now ?? Date.now)();
  return linkedUsers(deps).map((u) => {
    const ids = [u.liveMri, u.skypeMri].filter((x): x is string => Boolean(x)).join(", ") || "no identities";
    const account = u.accountEmail ?? u.skypeName ?? "unknown account";
    const last = deps.activity.last(u.mxid);
    const seen = last === undefined ? "no activity seen" : `last active ${duration(now - last)} ago`;
    return `• ${u.mxid} — ${account} (${ids}) — ${deps.states.current(u.mxid).state_event} — ${seen}`;
  });
}
