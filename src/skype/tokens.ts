// SPDX-License-Identifier: Apache-2.0
/**
 * Scoped OAuth tokens from the refresh token (PROFILE §2.4) and the UIC (§2.5).
 * Tokens are cached per scope and renewed before they expire; concurrent callers of one scope share
 * one request; refreshes run one at a time so each new refresh token replaces the previous one in order.
 */
import { AuthError, ProtocolParseError, SkypeError, SkypeErrorCode } from "./errors.js";
import { formEncode, httpRequest, unexpectedStatus, type HttpOptions } from "./http.js";
import { silentLogger, type SkypeLogger } from "./log.js";
import { endpointUrl, type SkypeEndpoints } from "./model.js";
import { CLIENT_ID } from "./auth/authorize.js";
import { SKYPE_TOKEN_SCOPE, SkypeTokenProvider, type SkypeTokenSource } from "./skype-token.js";

/** The four scopes the client uses (PROFILE §2.4). */
export const TokenScope = {
  /** UIC from login.skype.com. */
  Uic: "service::login.skype.com::MBI_SSL",
  /** The ATH ticket of MSNP. */
  Ath: "service::ssl.live.com::MBI_SSL",
  /** The ABCH address book. */
  Contacts: "service::contacts.msn.com::MBI_SSL",
  /** ActiveSync contacts. */
  ActiveSync: "service::m.hotmail.com::MBI_SSL",
  /** What buys the Skype token (PROFILE §7.1): see {@link TokenManager.skypeToken}. */
  Skype: SKYPE_TOKEN_SCOPE,
} as const;
export type TokenScope = (typeof TokenScope)[keyof typeof TokenScope];

/** What token consumers (ABCH, ActiveSync, MSNP) need; TokenManager implements it. */
export interface TokenSource {
  /** A valid access token for `scope`; may do network I/O. */
  getToken(scope: string, opts?: { signal?: AbortSignal; forceRefresh?: boolean }): Promise<string>;
  /** Forgets the cached token of `scope` (after the server refused it). */
  invalidate(scope: string): void;
}

export interface TokenManagerOptions extends HttpOptions {
  /** `api` is needed only for the Skype token (PROFILE §7.1). */
  endpoints: Pick<SkypeEndpoints, "login" | "skype_login"> & Partial<Pick<SkypeEndpoints, "api">>;
  refreshToken: string;
  /** Called with every new refresh token, to persist it. Errors are logged, not thrown. */
  onRefreshToken?: (refreshToken: string) => void | Promise<void>;
  /** Clock (ms since the epoch). */
  now?: () => number;
  /** Renew this long before expiry; capped at a quarter of the token's lifetime. Default 5 minutes. */
  refreshMarginMs?: number;
}

interface CachedToken {
  token: string;
  expiresAt: number;
  renewAt: number;
}

/** The answer of `/login/uic`. The UIC is a secret. */
export interface UicResult {
  uic: string;
  skypename: string;
}

const OTHER_OAUTH_ERRORS = new Set([
  "unsupported_grant_type",
  "invalid_client",
  "invalid_scope",
  "invalid_request",
]);

/** Holds the refresh token and hands out scoped access tokens and the Skype token. */
export class TokenManager implements TokenSource, SkypeTokenSource {
  private rt: string;
  private readonly cache = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<string>>();
  private chain: Promise<unknown> = Promise.resolve();
  private fatal?: AuthError;
  private readonly log: SkypeLogger;
  private readonly now: () => number;
  private skype?: SkypeTokenProvider;

  constructor(private readonly opts: TokenManagerOptions) {
    if (!opts.refreshToken)
      throw new SkypeError(SkypeErrorCode.InvalidArgument, "no refresh token given", false);
    this.rt = opts.refreshToken;
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
  }

  /** The newest refresh token (to persist). */
  get refreshToken(): string {
    return this.rt;
  }

  /** Replaces the refresh token (after a new sign-in) and forgets everything cached. */
  setRefreshToken(rt: string): void {
    this.rt = rt;
    this.cache.clear();
    this.skype?.invalidateSkypeToken();
    this.fatal = undefined;
  }

  /**
   * The Skype token (PROFILE §7.1) for the object service and avatars, bought with this manager's
   * `service::skype.com::MBI_SSL` token, cached and renewed before it expires.
   * @throws SkypeError `InvalidArgument` when no `api` endpoint was given; otherwise as
   *   {@link SkypeTokenProvider.skypeToken}.
   */
  skypeToken(opts?: { forceRefresh?: boolean }): Promise<string> {
    const api = this.opts.endpoints.api;
    if (!api) {
      return Promise.reject(
        new SkypeError(SkypeErrorCode.InvalidArgument, "no api endpoint for the Skype token", false),
      );
    }
    this.skype ??= new SkypeTokenProvider(this, {
      ...this.opts,
      api,
      now: this.now,
      refreshMarginMs: this.opts.refreshMarginMs,
    });
    return this.skype.skypeToken(opts);
  }

  /** Forgets the cached Skype token (the object service or the avatar server refused it). */
  invalidateSkypeToken(): void {
    this.skype?.invalidateSkypeToken();
  }

  /** When the cached token of `scope` expires (ms), if one is cached. */
  expiresAt(scope: string): number | undefined {
    return this.cache.get(scope)?.expiresAt;
  }

  invalidate(scope: string): void {
    this.cache.delete(scope);
  }

  /**
   * A valid access token for `scope`, from the cache unless it is within the renewal margin.
   * @throws AuthError `BadCredentials` (not retryable) when the refresh token is invalid or revoked;
   *   AuthError `OAuth` for other OAuth errors; SkypeError `Network` (retryable) on network errors and 5xx.
   */
  async getToken(
    scope: string,
    opts: { signal?: AbortSignal; forceRefresh?: boolean } = {},
  ): Promise<string> {
    if (this.fatal) throw this.fatal;
    const cached = this.cache.get(scope);
    if (cached && !opts.forceRefresh && this.now() < cached.renewAt) return cached.token;
    let pending = this.inFlight.get(scope);
    if (!pending) {
      pending = this.enqueue(scope).finally(() => this.inFlight.delete(scope));
      this.inFlight.set(scope, pending);
    }
    // The shared request is not tied to any one caller's signal; each caller may stop waiting.
    return withSignal(pending, opts.signal);
  }

  /** Runs refreshes one after another so the refresh-token chain stays linear. */
  private enqueue(scope: string): Promise<string> {
    const run = this.chain.then(() => this.refresh(scope));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async refresh(scope: string): Promise<string> {
    if (this.fatal) throw this.fatal;
    const what = "token refresh";
    const sentRt = this.rt;
    const res = await httpRequest(this.opts, {
      method: "POST",
      url: endpointUrl(this.opts.endpoints.login, "/oauth20_token.srf"),
      what,
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: formEncode([
        ["grant_type", "refresh_token"],
        ["client_id", CLIENT_ID],
        ["scope", scope],
        ["refresh_token", sentRt],
      ]),
    });
    const data = parseJson(res.body.toString("utf8"));
    if (res.status !== 200) throw this.oauthError(res.status, data);
    const token = str(data?.access_token);
    if (!token) throw new ProtocolParseError(SkypeErrorCode.Parse, `${what}: the answer has no access_token`);
    const lifetimeMs = Math.max(0, Number(data?.expires_in) || 0) * 1000;
    const margin = Math.min(this.opts.refreshMarginMs ?? 300_000, lifetimeMs / 4);
    const now = this.now();
    this.cache.set(scope, { token, expiresAt: now + lifetimeMs, renewAt: now + lifetimeMs - margin });
    const newRt = str(data?.refresh_token);
    if (newRt && newRt !== this.rt && this.rt === sentRt) {
      this.rt = newRt;
      this.persist(newRt);
    }
    this.log.debug("token refreshed", { scope, expiresInS: lifetimeMs / 1000 });
    return token;
  }

  private persist(rt: string): void {
    const cb = this.opts.onRefreshToken;
    if (!cb) return;
    try {
      const r = cb(rt);
      if (r instanceof Promise)
        r.catch((e: unknown) => this.log.error("saving the refresh token failed", { error: e }));
    } catch (e) {
      this.log.error("saving the refresh token failed", { error: e });
    }
  }

  private oauthError(status: number, data: Record<string, unknown> | undefined): SkypeError {
    const error = str(data?.error);
    if (status >= 500 || status === 429 || (!error && status !== 400 && status !== 401)) {
      return unexpectedStatus("token refresh", status);
    }
    if (error === "invalid_grant") {
      this.fatal = new AuthError(
        SkypeErrorCode.BadCredentials,
        "the saved sign-in is no longer valid (invalid_grant): sign in again",
      );
      return this.fatal;
    }
    const name =
      error && (OTHER_OAUTH_ERRORS.has(error) || /^[a-z_]{1,40}$/.test(error)) ? error : "unknown error";
    return new AuthError(
      SkypeErrorCode.OAuth,
      `the token service refused the request: ${name} (HTTP ${status})`,
    );
  }

  /**
   * `POST {skype_login}/login/uic` with the login.skype.com token and the CNT nonce (PROFILE §2.5).
   * A refused token is renewed once and the request retried.
   */
  async getUic(nonce: string, signal?: AbortSignal): Promise<UicResult> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.getToken(TokenScope.Uic, { signal, forceRefresh: attempt > 0 });
      const res = await httpRequest(this.opts, {
        method: "POST",
        url: endpointUrl(this.opts.endpoints.skype_login, "/login/uic"),
        what: "UIC",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: formEncode([
          ["access_token", token],
          ["nonce", nonce],
        ]),
        signal,
      });
      if ((res.status === 401 || res.status === 403) && attempt === 0) {
        this.invalidate(TokenScope.Uic);
        continue;
      }
      if (res.status !== 200) throw unexpectedStatus("UIC", res.status);
      const data = parseJson(res.body.toString("utf8"));
      const uic = str(data?.uic);
      const skypename = str(data?.skypename);
      if (!uic || !skypename)
        throw new ProtocolParseError(SkypeErrorCode.Parse, "UIC: the answer lacks uic or skypename");
      return { uic, skypename };
    }
  }
}

/** Resolves like `p`, or rejects with `Aborted` as soon as `signal` fires. */
function withSignal<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  const aborted = (): SkypeError => new SkypeError(SkypeErrorCode.Aborted, "token request aborted", false);
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(aborted());
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
}
