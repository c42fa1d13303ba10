// SPDX-License-Identifier: Apache-2.0
/**
 * Where `/health`, `/ready` and `/metrics` are served. `/health` and `/ready` are always on the
 * appservice listener. With `metrics.enabled`, `/metrics` is too — through the library's own route
 * (`PrometheusMetrics.addAppServicePath`) — unless `metrics.port` names another port: then a small
 * listener of its own serves all three there (on `metrics.bind_address`), and the appservice
 * listener has no `/metrics`, so metrics can stay inside a private network while Synapse reaches
 * the appservice.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { PrometheusMetrics } from "matrix-appservice-bridge";
import type { Config } from "../../config/schema.js";
import { errorText, Logger } from "../../util/logger.js";
import { SkypeAppService } from "../matrix/appservice.js";
import type { MatrixConnector } from "../matrix/connector.js";
import { Readiness, sendJson } from "./health.js";
import { libraryMetrics } from "./library.js";
import type { BridgeMetrics, MetricsSources } from "./registry.js";

const log = new Logger("bridge.metrics");

/** What the endpoints read: the bridge core's metrics, store and sessions. */
export type ObservedCore = MetricsSources & { readonly metrics: BridgeMetrics };

export class Observability {
  readonly readiness: Readiness;
  private prom?: PrometheusMetrics;
  private server?: Server;

  constructor(
    private readonly config: Config,
    version: string,
    private readonly core: ObservedCore,
  ) {
    this.readiness = new Readiness({ store: core.store, homeserverUrl: config.homeserver.url, version });
  }

  /** Mounts the routes once the appservice listens on `appservicePort`. Throws if the metrics port is taken. */
  async start(matrix: MatrixConnector, appservicePort: number): Promise<void> {
    const as = matrix.bridge.appService;
    // The library's AppService answers /health itself ("OK" as text), before any route we add.
    if (as instanceof SkypeAppService) as.health = (_req, res) => this.readiness.health(res);
    as.expressApp.get("/ready", (_req, res) => void this.readiness.ready(res));
    const { enabled, port, bind_address: address } = this.config.metrics;
    if (!enabled) return;
    const separate = port !== undefined && port !== appservicePort;
    this.prom = libraryMetrics(matrix.bridge, this.core.metrics, this.core, !separate);
    if (!separate) {
      log.info("metrics served on the appservice listener", { path: "/metrics", port: appservicePort });
      return;
    }
    const server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, address, () => resolve());
    });
    this.server = server;
    log.info("metrics served on their own listener", {
      address: `${address}:${(server.address() as AddressInfo).port}`,
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The metrics listener's routes: the same three, GET only. */
  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") return sendJson(res, 405, { error: "only GET is served here" });
    if (path === "/health") return this.readiness.health(res);
    if (path === "/ready") return this.readiness.ready(res);
    if (path !== "/metrics" || !this.prom) return sendJson(res, 404, { error: "not found" });
    try {
      await this.prom.refresh();
      const text = await this.core.metrics.registry.metrics();
      res.writeHead(200, { "content-type": this.core.metrics.registry.contentType });
      res.end(text);
    } catch (e) {
      log.warn("could not collect the metrics", { error: errorText(e) });
      sendJson(res, 500, { error: "the metrics could not be collected" });
    }
  }
}
