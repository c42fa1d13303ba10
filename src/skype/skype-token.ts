// SPDX-License-Identifier: Apache-2.0
/**
 * The Skype token (PROFILE §7.1): `POST {api}/rps/skypetoken` with the `service::skype.com::MBI_SSL`
 * access token → `{skypetoken, expiresIn}`. It authorises the object service (§7.2,
 * `Authorization: skype_token <t>`) and avatars (§7.6, `X-Skypetoken: <t>`) and is sent to no other
 * host. Cached, renewed before `expiresIn` runs out (same margin rule as the scoped tokens),
 * concurrent callers share one request. The token is a secret: never logged, never in an error.
 */
import { ProtocolParseError, SkypeErrorCode } from "./errors.js";
import { formEncode, httpRequest, unexpectedStatus, type HttpOptions } from "./http.js";
import { endpointUrl } from "./model.js";
import type { TokenSource } from "./tokens.js";

/** The scope whose access token buys a Skype token (PROFILE §2.1, §7.1). */
export const SKYPE_TOKEN_SCOPE = "service::skype.com::MBI_SSL";

/** What consumers of the Skype token (object service, avatars) need. */
export interface SkypeTokenSource {
  /** A valid Skype token; may do network I/O. @throws SkypeError (see {@link SkypeTokenProvider.skypeToken}). */
  skypeToken(opts?: { forceRefresh?: boolean }): Promise<string>;
  /** Forgets the cached Skype token (after a server refused it with 401). */
  invalidateSkypeToken(): void;
}

export interface SkypeTokenOptions extends HttpOptions {
  /** The `api` base (PROFILE §1). */
  api: string;
  /** Clock (ms since the epoch). */
  now?: () => number;
  /** Renew this long before expiry; capped at a quarter of the lifetime. Default 5 minutes. */
  refreshMarginMs?: number;
}

/** The client version the form names (PROFILE §7.1). */
const CLIENT_VERSION = "0/6.16.0.105/259/";

interface Cached {
  token: string;
  expiresAt: number;
  renewAt: number;
}

/** Fetches and caches the Skype token from a source of scoped access tokens. */
export class SkypeTokenProvider implements SkypeTokenSource {
  private cached?: Cached;
  private inFlight?: Promise<string>;
  private readonly now: () => number;

  constructor(
    private readonly tokens: TokenSource,
    private readonly opts: SkypeTokenOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** When the cached Skype token expires (ms), if one is cached. */
  expiresAt(): number | undefined {
    return this.cached?.expiresAt;
  }

  invalidateSkypeToken(): void {
    this.cached = undefined;
  }

  /**
   * A valid Skype token, from the cache unless within the renewal margin. A `401` (the access
   * token was refused) renews the access token once and asks again.
   * @throws AuthError from the scoped-token refresh (`BadCredentials` when the sign-in is gone);
   *   SkypeError `Network` (retryable) on network errors and 5xx, `HttpStatus` for another
   *   refusal, `Parse` for an answer without a token.
   */
  skypeToken(opts: { forceRefresh?: boolean } = {}): Promise<string> {
    const c = this.cached;
    if (c && !opts.forceRefresh && this.now() < c.renewAt) return Promise.resolve(c.token);
    this.inFlight ??= this.fetch().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async fetch(): Promise<string> {
    const url = endpointUrl(this.opts.api, "/rps/skypetoken");
    for (let attempt = 0; ; attempt++) {
      const access = await this.tokens.getToken(SKYPE_TOKEN_SCOPE, { forceRefresh: attempt > 0 });
      const res = await httpRequest(this.opts, {
        method: "POST",
        url,
        what: "skypetoken",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: formEncode([
          ["scopes", "client"],
          ["clientVersion", CLIENT_VERSION],
          ["partner", "999"],
          ["access_token", access],
        ]),
        maxResponseBytes: 64 * 1024,
      });
      if (res.status === 401 && attempt === 0) {
        this.tokens.invalidate(SKYPE_TOKEN_SCOPE);
        continue;
      }
      if (res.status !== 200) throw unexpectedStatus("skypetoken", res.status);
      const { token, lifetimeS } = parseAnswer(res.body);
      const lifetimeMs = lifetimeS * 1000;
      const margin = Math.min(this.opts.refreshMarginMs ?? 300_000, lifetimeMs / 4);
      const now = this.now();
      this.cached = { token, expiresAt: now + lifetimeMs, renewAt: now + lifetimeMs - margin };
      this.opts.logger?.debug("skypetoken refreshed", { expiresInS: lifetimeS });
      return token;
    }
  }
}

function parseAnswer(body: Buffer): { token: string; lifetimeS: number } {
  let data: unknown;
  try {
    data = JSON.parse(body.toString("utf8"));
  } catch {
    data = undefined;
  }
  const rec = typeof data === "object" && data !== null ? (data as Record<string, unknown>) : {};
  const token = rec.skypetoken;
  if (typeof token !== "string" || token === "") {
    throw new ProtocolParseError(SkypeErrorCode.Parse, "skypetoken: the answer has no skypetoken");
  }
  const lifetime = Number(rec.expiresIn);
  if (!Number.isFinite(lifetime) || lifetime <= 0) {
    throw new ProtocolParseError(SkypeErrorCode.Parse, "skypetoken: the answer has no usable expiresIn");
  }
  return { token, lifetimeS: Math.min(lifetime, 366 * 86_400) };
}

/** The one way a Skype token is put on a request to the object service (PROFILE §7.2). */
export function amsAuthorization(token: string): Record<string, string> {
  return { authorization: `skype_token ${token}` };
}

/** The one way a Skype token is put on an avatar request (PROFILE §7.6). */
export function avatarAuthorization(token: string): Record<string, string> {
  return { "x-skypetoken": token };
}
