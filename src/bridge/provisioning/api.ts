// SPDX-License-Identifier: Apache-2.0
/**
 * The provisioning API: matrix-appservice-bridge's `ProvisioningApi` (rate limiting, OpenID-token
 * sessions at `/v1/exchange_openid`, express routing, JSON errors) mounted on the appservice's
 * listener under `/_matrix/provision`, with mautrix bridgev2's v3 routes (account-routes.ts,
 * contact-routes.ts). Off unless `provisioning.shared_secret` is set; a secret shorter than 16
 * characters keeps it off, and the start log says why.
 */
import type { Application, Request, Response } from "express";
import { ProvisioningApi, type ProvisioningRequest } from "matrix-appservice-bridge";
import type { ProvisioningConfig } from "../../config/schema.js";
import { Logger } from "../../util/logger.js";
import { accountRoutes } from "./account-routes.js";
import { SessionTokens, WIDGET_TOKEN_PREFIX, actingUser, authGate } from "./auth.js";
import { contactRoutes } from "./contact-routes.js";
import { ProvisioningError, ProvisioningErrorCode } from "./errors.js";
import { ProvisioningLogins } from "./logins.js";
import type { ProvisioningDeps, Route } from "./types.js";

const log = new Logger("bridge.provisioning");

/** Where the API lives on the appservice listener (as mautrix bridges). */
export const PROVISIONING_PREFIX = "/_matrix/provision";
/** The shortest shared secret accepted. */
export const MIN_SECRET_LENGTH = 16;

export class ProvisioningService {
  private readonly logins = new ProvisioningLogins();
  private readonly sessions = new SessionTokens();

  private constructor(
    private readonly deps: ProvisioningDeps,
    private readonly secret: string,
    private readonly settings: ProvisioningConfig,
  ) {}

  /** The service when the config enables it; otherwise undefined, with a log line saying why. */
  static fromConfig(deps: ProvisioningDeps): ProvisioningService | undefined {
    const settings = deps.config.provisioning;
    const secret = settings?.shared_secret;
    if (settings === undefined || secret === undefined || secret === "") {
      log.info("provisioning API off (no provisioning.shared_secret in the config)");
      return undefined;
    }
    if (secret.length < MIN_SECRET_LENGTH) {
      log.warn(
        `provisioning API off: provisioning.shared_secret is shorter than ${MIN_SECRET_LENGTH} characters`,
      );
      return undefined;
    }
    return new ProvisioningService(deps, secret, settings);
  }

  /** Adds the API's routes to the appservice's express app (call once it listens). */
  mount(app: Application): void {
    const { config } = this.deps;
    const { rate_limit_per_minute: perMinute, allow_matrix_auth: allowMatrixAuth } = this.settings;
    app.use(PROVISIONING_PREFIX, authGate({ secret: this.secret, allowMatrixAuth }));
    const api = new ProvisioningApi(this.sessions, {
      expressApp: app,
      apiPrefix: PROVISIONING_PREFIX,
      provisioningToken: this.secret,
      widgetTokenPrefix: WIDGET_TOKEN_PREFIX,
      // The bridge's own homeserver is known: its OpenID tokens are checked there, not through
      // .well-known discovery (which refuses private addresses, as a homeserver beside us has).
      openIdOverride: { [config.homeserver.domain]: new URL(config.homeserver.url) },
      ratelimit: perMinute > 0 ? { windowMs: 60_000, max: perMinute } : false,
    });
    for (const route of [...accountRoutes(this.deps, this.logins), ...contactRoutes(this.deps)]) {
      api.addRoute(route.method, route.path, this.handler(route), route.path);
    }
    // Anything else under the prefix: bridgev2's JSON answer instead of express's HTML page.
    app.use(PROVISIONING_PREFIX, (_req: Request, res: Response) => {
      new ProvisioningError(ProvisioningErrorCode.Unrecognized, "Unrecognized endpoint", 404).apply(res);
    });
    log.info("provisioning API on", {
      prefix: PROVISIONING_PREFIX,
      matrixAuth: allowMatrixAuth,
      perMinute,
    });
  }

  private handler(route: Route): (req: ProvisioningRequest, res: Response) => Promise<void> {
    return (req, res) =>
      route.handler(
        actingUser(req, (m) => this.deps.permission(m)),
        req,
        res,
      );
  }

  stop(): void {
    this.logins.stop();
  }
}
