// SPDX-License-Identifier: Apache-2.0
/**
 * Sends bridge states to `homeserver.status_endpoint` as mautrix bridgev2 does: a POST of the
 * state's JSON with the appservice token as a Bearer token; CONNECTING is not sent (it matters only
 * where the network is unreliable, bridgev2 says); a state equal to the last one sent and still
 * within its TTL is not sent again; a failed POST is retried (2 s doubling to 64 s) until it
 * succeeds or a newer state of that user replaces it.
 */
import { Logger, errorText } from "../../util/logger.js";
import type { BridgeState } from "./bridge-state.js";

const log = new Logger("bridge.status");

export interface StatusPushOptions {
  endpoint: string;
  /** The appservice token (registration `as_token`). A secret: never logged. */
  token: string;
  /** First retry delay (default 2 s; tests shorten it). */
  retryMs?: number;
  now?: () => number;
}

interface Slot {
  latest: BridgeState;
  timer?: NodeJS.Timeout;
}

export class StatusPush {
  private readonly slots = new Map<string, Slot>();
  private readonly lastSent = new Map<string, BridgeState>();
  private stopped = false;

  constructor(private readonly opts: StatusPushOptions) {}

  /** Queues `state` for sending (replacing an unsent older one of the same user). Never throws. */
  push(state: BridgeState): void {
    if (this.stopped || state.state_event === "CONNECTING" || this.duplicate(state)) return;
    const slot = this.slots.get(state.user_id);
    if (slot) {
      slot.latest = state;
      return;
    }
    const fresh: Slot = { latest: state };
    this.slots.set(state.user_id, fresh);
    void this.send(fresh, this.opts.retryMs ?? 2000);
  }

  stop(): void {
    this.stopped = true;
    for (const slot of this.slots.values()) clearTimeout(slot.timer);
    this.slots.clear();
  }

  private duplicate(state: BridgeState): boolean {
    const prev = this.lastSent.get(state.user_id);
    const now = (this.opts.now ?? Date.now)() / 1000;
    return (
      prev !== undefined &&
      prev.state_event === state.state_event &&
      prev.error === state.error &&
      prev.remote_id === state.remote_id &&
      prev.timestamp + prev.ttl > now
    );
  }

  private async send(slot: Slot, delayMs: number): Promise<void> {
    if (this.stopped) return;
    const state = slot.latest;
    let ok = false;
    try {
      const res = await fetch(this.opts.endpoint, {
        method: "POST",
        headers: { authorization: `Bearer ${this.opts.token}`, "content-type": "application/json" },
        body: JSON.stringify(state),
        signal: AbortSignal.timeout(30_000),
      });
      ok = res.ok;
      if (!ok) log.warn("the status endpoint refused a bridge state", { status: res.status });
      await res.body?.cancel().catch(() => undefined);
    } catch (e) {
      log.warn("could not send a bridge state", { error: errorText(e) });
    }
    if (this.stopped) return;
    if (ok) {
      this.lastSent.set(state.user_id, state);
      log.debug("bridge state sent", { user: state.user_id, state: state.state_event });
    }
    if (ok && slot.latest === state) {
      this.slots.delete(state.user_id);
      return;
    }
    // Failed, or a newer state came meanwhile: send the latest (at once when the last one went through).
    const wait = ok ? 0 : delayMs;
    slot.timer = setTimeout(() => void this.send(slot, ok ? delayMs : Math.min(delayMs * 2, 64_000)), wait);
    slot.timer.unref();
  }
}
