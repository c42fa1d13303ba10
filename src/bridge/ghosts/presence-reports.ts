// SPDX-License-Identifier: Apache-2.0
/**
 * Who sees whom: what each linked user's session (a "viewer") last reported of each Skype
 * identity, so that a person shows the best state anyone still vouches for, and a viewer that
 * stops vouching takes exactly its own reports away. Pure bookkeeping: no I/O, no store.
 */

/** Matrix presence states. */
export type MatrixPresence = "online" | "unavailable" | "offline";

const PRESENCE_RANK: Record<MatrixPresence, number> = { offline: 0, unavailable: 1, online: 2 };

/** What a puppet shows (or should show). */
export interface Shown {
  presence: MatrixPresence;
  statusMsg: string;
}

/** What one viewer last said of one identity. */
export interface Report extends Shown {
  /** Re-announced since the viewer's last (re)connect. */
  confirmed: boolean;
  /** Order of arrival: among equal states the latest report's status message wins. */
  seq: number;
}

export const OFFLINE: Shown = { presence: "offline", statusMsg: "" };

export class PresenceReports {
  /** identity → viewer → the viewer's latest report. */
  private readonly byIdentity = new Map<string, Map<string, Report>>();
  /** viewer → identities it reported on. */
  private readonly byViewer = new Map<string, Set<string>>();
  private seq = 0;

  /** Records `viewer`'s report on `identity` (confirmed). */
  set(viewer: string, identity: string, shown: Shown): void {
    const reports = this.byIdentity.get(identity) ?? new Map<string, Report>();
    reports.set(viewer, { ...shown, confirmed: true, seq: ++this.seq });
    this.byIdentity.set(identity, reports);
    const identities = this.byViewer.get(viewer) ?? new Set<string>();
    identities.add(identity);
    this.byViewer.set(viewer, identities);
  }

  /** Marks every report of `viewer` as waiting to be re-announced. */
  unconfirm(viewer: string): void {
    for (const identity of this.byViewer.get(viewer) ?? []) {
      const r = this.byIdentity.get(identity)?.get(viewer);
      if (r) r.confirmed = false;
    }
  }

  /** Removes `viewer`'s reports that match `which`; returns their identities. */
  drop(viewer: string, which: (r: Report) => boolean): string[] {
    const identities = this.byViewer.get(viewer);
    if (!identities) return [];
    const dropped: string[] = [];
    for (const identity of [...identities]) {
      const reports = this.byIdentity.get(identity);
      const r = reports?.get(viewer);
      if (!reports || !r || !which(r)) continue;
      reports.delete(viewer);
      if (reports.size === 0) this.byIdentity.delete(identity);
      identities.delete(identity);
      dropped.push(identity);
    }
    if (identities.size === 0) this.byViewer.delete(viewer);
    return dropped;
  }

  /** The best report anyone has on any of `identities` (offline when none). */
  best(identities: Iterable<string>): Shown {
    let best: Report | undefined;
    for (const identity of identities) {
      for (const r of this.byIdentity.get(identity)?.values() ?? []) {
        const diff = PRESENCE_RANK[r.presence] - (best ? PRESENCE_RANK[best.presence] : -1);
        if (diff > 0 || (diff === 0 && best && r.seq > best.seq)) best = r;
      }
    }
    return best ? { presence: best.presence, statusMsg: best.statusMsg } : OFFLINE;
  }
}
