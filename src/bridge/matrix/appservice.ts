// SPDX-License-Identifier: Apache-2.0
/**
 * The HTTP side Synapse pushes to. Extends matrix-appservice's AppService to:
 * - accept ephemeral events under both the stable `ephemeral` key (MSC2409 as merged, sent when the
 *   registration says `receive_ephemeral`) and the unstable `de.sorunome.msc2409.ephemeral` key
 *   (the only one matrix-appservice 2.0.0 reads);
 * - answer a transaction only after its events are durably accepted (the `accept` hook writes them
 *   to the bridge's inbox), so a crash between Synapse's push and our handling loses nothing, and a
 *   re-sent transaction is recognised by its events' ids rather than by the last txn id in memory;
 * - serve the MSC2659 ping route;
 * - log each request at `debug` only, formatted only then (the library formats one per request).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { performance } from "node:perf_hooks";
import { AppService } from "matrix-appservice";
import type { NextFunction, Request, Response } from "express";
import { Logger, errorText } from "../../util/logger.js";

const log = new Logger("bridge.appservice");

export type MatrixEventJson = Record<string, unknown> & {
  event_id?: string;
  type?: string;
  room_id?: string;
};

/** Given a transaction's events, persists them and returns those not seen before (to dispatch). */
export type AcceptHook = (
  txnId: string,
  events: MatrixEventJson[],
) => Promise<MatrixEventJson[]> | MatrixEventJson[];

/**
 * Compares a supplied token with ours in constant time: both are hashed first, so neither the
 * position of the first differing character nor the token's length shows in the timing.
 */
export function sameToken(supplied: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(supplied), digest(expected));
}

function bearer(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith("Bearer ")) return h.slice(7);
  const q = req.query.access_token;
  return typeof q === "string" ? q : undefined;
}

/** One `debug` line per request (never the query string: it may hold a token). */
function accessLog(req: Request, res: Response, next: NextFunction): void {
  if (!log.enabled("debug")) return next();
  const start = performance.now();
  res.once("finish", () =>
    log.debug("appservice request", {
      method: req.method,
      path: req.path,
      status: res.statusCode,
      ms: Math.round((performance.now() - start) * 10) / 10,
    }),
  );
  next();
}

/**
 * matrix-appservice puts morgan ("combined") in front of every route. Its line only ever reaches
 * our log at `debug` (util/library-logging.ts), yet morgan formats it for every transaction: in a
 * CPU profile of a Skype → Matrix burst (BENCHMARKS.md, cause 6) that was ~0.24 ms per bridged
 * message, as much as the bridge's own handling. Its layer keeps its place in Express's stack but
 * runs {@link accessLog} instead. Express 4 keeps the stack in `app._router.stack`, each layer's
 * function in `handle` and its name in `name` (morgan's is `logger`); if that ever changes, nothing
 * is replaced and morgan stays.
 */
function replaceAccessLog(app: unknown): void {
  const stack = (app as { _router?: { stack?: unknown } })._router?.stack;
  if (!Array.isArray(stack)) return;
  for (const layer of stack as { name?: unknown; handle?: unknown }[])
    if (layer.name === "logger" && typeof layer.handle === "function") {
      layer.handle = accessLog;
      layer.name = "accessLog";
    }
}

// matrix-appservice declares onTransaction private; we replace it (its constructor binds the
// route to `this.onTransaction`, which resolves to this override).
// @ts-expect-error overriding a private method of the base class on purpose (see above)
export class SkypeAppService extends AppService {
  /** The latest ping transaction id Synapse echoed back to us (MSC2659). */
  lastPing?: string;
  accept: AcceptHook = (_txn, events) => events;
  /**
   * Takes a transaction's crypto part (to-device events, key counts, device lists) before its
   * room events are accepted (end-to-bridge encryption; crypto.ts). Must not throw.
   */
  cryptoSync?: (body: Record<string, unknown>) => Promise<void>;
  /** Answers `GET /health`; the library's answer ("OK" as text) until the bridge sets its own. */
  health = (_req: Request, res: Response): void => void res.send("OK");

  constructor(private readonly hsToken: string) {
    super({ homeserverToken: hsToken });
    replaceAccessLog(this.expressApp);
    this.expressApp.post("/_matrix/app/v1/ping", (req: Request, res: Response) => {
      if (!this.authorised(req, res)) return;
      const body = req.body as { transaction_id?: unknown } | undefined;
      this.lastPing = typeof body?.transaction_id === "string" ? body.transaction_id : "";
      res.json({});
    });
  }

  private authorised(req: Request, res: Response): boolean {
    const token = bearer(req);
    if (token === undefined) {
      res.status(401).json({ errcode: "M_UNAUTHORIZED", error: "Missing token" });
      return false;
    }
    if (!sameToken(token, this.hsToken)) {
      res.status(403).json({ errcode: "M_FORBIDDEN", error: "Bad token supplied" });
      return false;
    }
    return true;
  }

  /**
   * The library's own check for its user and room query routes compares with `!==` (timing
   * reveals how much of a guess was right); ours is constant-time and also answers 401 for no token.
   */
  override isInvalidToken(req: Request, res: Response): boolean {
    return !this.authorised(req, res);
  }

  // Private in the base class too; its constructor binds the /health route to this override.
  protected override onHealthCheck(req: Request, res: Response): void {
    this.health(req, res);
  }

  protected override onTransaction(req: Request, res: Response): void {
    if (!this.authorised(req, res)) return;
    const txnId = String(req.params.txnId ?? "");
    const body = (req.body ?? {}) as Record<string, unknown>;
    const events = Array.isArray(body.events) ? (body.events as MatrixEventJson[]) : [];
    const stable = body.ephemeral;
    const unstable = body["de.sorunome.msc2409.ephemeral"];
    const ephemeral = (
      Array.isArray(stable) ? stable : Array.isArray(unstable) ? unstable : []
    ) as MatrixEventJson[];
    Promise.resolve(this.cryptoSync?.(body))
      .then(() => this.accept(txnId, events))
      .then((fresh) => {
        res.json({});
        for (const event of fresh) {
          this.emit("event", event);
          if (event.type) this.emit("type:" + event.type, event);
        }
        for (const event of ephemeral) {
          this.emit("ephemeral", event);
          if (event.type) this.emit("ephemeral_type:" + event.type, event);
        }
      })
      .catch((e: unknown) => {
        log.error("could not accept a transaction; Synapse will retry it", { txnId, error: errorText(e) });
        res.status(500).json({ errcode: "M_UNKNOWN", error: "The bridge could not store the transaction" });
      });
  }
}
