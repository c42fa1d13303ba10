// SPDX-License-Identifier: Apache-2.0
/**
 * `GET /health` and `GET /ready`. Health says only that the process is up and answering (a
 * liveness probe must not fail because Synapse is down: restarting the bridge would not help).
 * Readiness says whether the bridge can do its work: the store is open, the homeserver answers,
 * and the linked users' sessions have been started. While not ready it answers 503 with the
 * reason, so a probe's log says what is missing.
 */
import type { ServerResponse } from "node:http";
import type { Store } from "../../store/types.js";
import { errorText } from "../../util/logger.js";

export interface ReadinessOptions {
  store: Pick<Store, "inbox">;
  /** The homeserver's client-server base URL (`homeserver.url`). */
  homeserverUrl: string;
  version: string;
  /** How long a successful homeserver check is reused (default 5 s): probes must not hammer Synapse. */
  cacheMs?: number;
  /** How long the homeserver may take to answer (default 3 s). */
  timeoutMs?: number;
  now?: () => number;
}

/** The `/ready` answer's body. */
export interface ReadyReport {
  status: "ready" | "not ready";
  /** The first check that failed, in words. */
  reason?: string;
  checks: { store: string; homeserver: string; sessions: string };
}

export class Readiness {
  private readonly startedAt: number;
  private sessions = false;
  private homeserver?: { at: number; result: Promise<string> };
  private readonly now: () => number;

  constructor(private readonly opts: ReadinessOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** The linked users' sessions have all been started (SessionManager.startAll finished). */
  sessionsStarted(): void {
    this.sessions = true;
  }

  async report(): Promise<ReadyReport> {
    const checks = {
      store: this.checkStore(),
      homeserver: await this.checkHomeserver(),
      sessions: this.sessions ? "ok" : "the linked users' Skype sessions are still being started",
    };
    const failed = Object.entries(checks).find(([, v]) => v !== "ok");
    if (!failed) return { status: "ready", checks };
    return { status: "not ready", reason: `${failed[0]}: ${failed[1]}`, checks };
  }

  /** Answers `GET /health`: 200 while the process runs. */
  health(res: ServerResponse): void {
    const uptime = Math.round((this.now() - this.startedAt) / 1000);
    sendJson(res, 200, { status: "ok", version: this.opts.version, uptime_seconds: uptime });
  }

  /** Answers `GET /ready`: 200 when ready, else 503 with the reason. Never rejects. */
  async ready(res: ServerResponse): Promise<void> {
    try {
      const report = await this.report();
      sendJson(res, report.status === "ready" ? 200 : 503, report);
    } catch (e) {
      sendJson(res, 503, { status: "not ready", reason: `the check failed: ${errorText(e)}` });
    }
  }

  private checkStore(): string {
    try {
      this.opts.store.inbox.pendingCount();
      return "ok";
    } catch (e) {
      return `the database cannot be read (${errorText(e)})`;
    }
  }

  /** `GET /_matrix/client/versions`, which every homeserver answers without authentication. */
  private checkHomeserver(): Promise<string> {
    const now = this.now();
    if (this.homeserver && now - this.homeserver.at < (this.opts.cacheMs ?? 5000))
      return this.homeserver.result;
    const url = `${this.opts.homeserverUrl}/_matrix/client/versions`;
    const result = fetch(url, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 3000) }).then(
      async (res) => {
        await res.body?.cancel();
        return res.ok ? "ok" : `the homeserver answered HTTP ${res.status}`;
      },
      (e: unknown) => `the homeserver cannot be reached (${causeText(e)})`,
    );
    // A failure is not kept: the next probe asks again, so readiness returns as soon as Synapse does.
    this.homeserver = { at: now, result };
    void result.then((r) => {
      if (r !== "ok" && this.homeserver?.result === result) this.homeserver = undefined;
    });
    return result;
  }
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, a timeout) in `cause`. */
function causeText(e: unknown): string {
  const cause = e instanceof Error && e.cause !== undefined ? e.cause : e;
  return errorText(cause);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
