// SPDX-License-Identifier: Apache-2.0
/**
 * Skype presence on puppets: a Skype status becomes Matrix presence, and presence that is not
 * offline is re-sent periodically so that Synapse's idle timers don't drop it (matrix-conventions
 * §3.6). A person online on either of their identities is online.
 */
import { Logger } from "../../util/logger.js";
import type { Bridge } from "../bridge.js";
import { matrixErrorText } from "../matrix/errors.js";
import type { Puppets } from "./puppets.js";

const log = new Logger("bridge.presence");

/** Matrix presence states. */
export type MatrixPresence = "online" | "unavailable" | "offline";

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

const PRESENCE_RANK: Record<MatrixPresence, number> = { offline: 0, unavailable: 1, online: 2 };

export class PuppetPresence {
  /** Presence per person and identity. */
  private readonly byIdentity = new Map<string, Map<string, MatrixPresence>>();
  /** Puppets whose presence is not offline, re-sent periodically: mxid → state and status. */
  private readonly live = new Map<string, { presence: MatrixPresence; statusMsg: string }>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly bridge: Bridge,
    private readonly puppets: Puppets,
    private readonly refreshMs: number,
  ) {}

  /**
   * Mirrors a Skype presence change on the person's puppet. Network I/O; throws on Matrix
   * failures.
   */
  async set(ev: { identity: string; status: string; mood?: string; endpoints?: number }): Promise<void> {
    const { store, config, matrix } = this.bridge;
    const person = this.puppets.personFor(ev.identity);
    const state = matrixPresence(ev.status, ev.endpoints);
    store.persons.update(person.id, { presence: state === "offline" ? "offline" : ev.status });
    if (config.puppets.presence === false) return;
    const byIdentity = this.byIdentity.get(person.id) ?? new Map<string, MatrixPresence>();
    byIdentity.set(ev.identity, state);
    this.byIdentity.set(person.id, byIdentity);
    let best: MatrixPresence = "offline";
    for (const s of byIdentity.values()) if (PRESENCE_RANK[s] > PRESENCE_RANK[best]) best = s;
    const puppet = await this.puppets.ensure(person.id);
    const statusMsg = ev.mood?.trim() ?? "";
    await matrix.setPresence(puppet.mxid, best, statusMsg);
    store.puppets.upsert(person.id, puppet.mxid, { presenceSet: best });
    if (best === "offline") this.live.delete(puppet.mxid);
    else this.live.set(puppet.mxid, { presence: best, statusMsg });
    this.startRefresh();
  }

  private startRefresh(): void {
    if (this.timer || this.live.size === 0 || this.refreshMs <= 0) return;
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  /** Re-sends every non-offline presence (Synapse would otherwise time it out). */
  async refresh(): Promise<void> {
    for (const [mxid, p] of [...this.live]) {
      try {
        await this.bridge.matrix.setPresence(mxid, p.presence, p.statusMsg);
      } catch (e) {
        log.debug("presence refresh failed", { puppet: mxid, error: matrixErrorText(e) });
      }
    }
  }

  /** Stops the refresh timer. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
