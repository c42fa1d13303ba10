// SPDX-License-Identifier: Apache-2.0
/**
 * The headless password flow of PROFILE §2.1: GET the authorize page, scrape PPFT and the form action,
 * keep the MSPOK cookie, POST `login`/`passwd`/`PPFT`, and read the `302` Location fragment without
 * following it. The password only ever travels in the POST body.
 */
import { AuthError, SkypeError, SkypeErrorCode } from "../errors.js";
import {
  CookieJar,
  formEncode,
  headerValue,
  httpRequest,
  unexpectedStatus,
  type HttpOptions,
} from "../http.js";
import { silentLogger } from "../log.js";
import { endpointUrl, type SkypeEndpoints } from "../model.js";
import {
  authorizeQuery,
  authorizeUrl,
  DEFAULT_STATE,
  parseRedirect,
  type TokenFragment,
} from "./authorize.js";
import { findErrorText, findFormAction, findHiddenInput, isSecondFactorPage } from "./html.js";

export interface PasswordSignInOptions extends HttpOptions {
  signal?: AbortSignal;
  /** The OAuth `state` to send and expect back. Default "999" (PROFILE §2). */
  state?: string;
}

const MAX_PAGE_BYTES = 2 * 1024 * 1024;

/** Resolves the form action against the page URL; only http(s) targets are accepted. */
function resolveAction(action: string | undefined, pageUrl: string, fallback: string): string {
  if (!action) return fallback;
  try {
    const u = new URL(action, pageUrl);
    if (u.protocol === "http:" || u.protocol === "https:") return u.toString();
  } catch {
    // fall through to the error below
  }
  throw new AuthError(SkypeErrorCode.UnknownPage, "the sign-in page's form points to an unusable address");
}

/** Reads the answer to the credentials post (PROFILE §2.1): a redirect with tokens, or a page saying why not. */
function interpretPostAnswer(
  status: number,
  location: string | undefined,
  page: string,
  state: string,
): TokenFragment {
  if (status >= 300 && status < 400) {
    if (!location)
      throw new AuthError(SkypeErrorCode.BadRedirect, "the sign-in server redirected without a Location");
    return parseRedirect(location, state);
  }
  if (status === 200) {
    if (isSecondFactorPage(page)) {
      throw new AuthError(
        SkypeErrorCode.SecondFactor,
        "this account needs a second sign-in step (verification code or app): use the browser login instead",
      );
    }
    const message = findErrorText(page);
    if (message) throw new AuthError(SkypeErrorCode.WrongPassword, `the sign-in failed: ${message}`);
    throw new AuthError(
      SkypeErrorCode.UnknownPage,
      "the sign-in server answered with a page this bridge does not know",
    );
  }
  if (status === 400) {
    throw new SkypeError(
      SkypeErrorCode.HttpStatus,
      "the sign-in server refused the login form (HTTP 400)",
      false,
    );
  }
  throw unexpectedStatus("sign-in post", status);
}

/**
 * Signs in with an e-mail and password and returns the redirect's tokens.
 * @throws AuthError `WrongPassword` (with the server's message), `SecondFactor`, `UnknownPage`,
 *   `StateMismatch`, `BadRedirect`, `OAuth`; SkypeError `HttpStatus`/`Network`.
 */
export async function passwordSignIn(
  endpoints: Pick<SkypeEndpoints, "login">,
  login: string,
  password: string,
  opts: PasswordSignInOptions = {},
): Promise<TokenFragment> {
  if (!login.trim() || !password) {
    throw new SkypeError(
      SkypeErrorCode.InvalidArgument,
      "an e-mail address and a password are both needed",
      false,
    );
  }
  const log = opts.logger ?? silentLogger;
  const state = opts.state ?? DEFAULT_STATE;
  const jar = new CookieJar();
  const pageUrl = authorizeUrl(endpoints, state);
  const page = await httpRequest(opts, {
    method: "GET",
    url: pageUrl,
    what: "sign-in page",
    headers: { accept: "text/html,application/xhtml+xml" },
    signal: opts.signal,
    maxResponseBytes: MAX_PAGE_BYTES,
  });
  jar.take(page.headers);
  const location = headerValue(page.headers, "location");
  if (page.status >= 300 && page.status < 400 && location) return parseRedirect(location, state);
  if (page.status !== 200) throw unexpectedStatus("sign-in page", page.status);
  const html = page.body.toString("utf8");
  const ppft = findHiddenInput(html, "PPFT");
  if (!ppft) throw new AuthError(SkypeErrorCode.UnknownPage, "the sign-in page has no login form (no PPFT)");
  const fallback = `${endpointUrl(endpoints.login, "/ppsecure/post.srf")}?${authorizeQuery(endpoints, state)}`;
  const action = resolveAction(findFormAction(html), pageUrl, fallback);
  if (!jar.has("MSPOK")) log.debug("sign-in page set no MSPOK cookie");
  const cookie = jar.header();
  const answer = await httpRequest(opts, {
    method: "POST",
    url: action,
    what: "sign-in post",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      accept: "text/html,application/xhtml+xml",
      ...(cookie ? { cookie } : {}),
    },
    body: formEncode([
      ["login", login.trim()],
      ["passwd", password],
      ["PPFT", ppft],
    ]),
    signal: opts.signal,
    maxResponseBytes: MAX_PAGE_BYTES,
  });
  return interpretPostAnswer(
    answer.status,
    headerValue(answer.headers, "location"),
    answer.body.toString("utf8"),
    state,
  );
}
