// SPDX-License-Identifier: Apache-2.0
/**
 * The OAuth implicit-grant parts of the Microsoft-account sign-in (PROFILE §2.1): the authorize URL
 * and the parsing of the redirect fragment the user (or the password flow) brings back.
 */
import { AuthError, SkypeErrorCode } from "../errors.js";
import { endpointUrl, normalizeCid, type SkypeEndpoints } from "../model.js";

/** Skype desktop's OAuth client id. */
export const CLIENT_ID = "00000000480BC46C";
/** The root scope of the sign-in (PROFILE §2.1). */
export const SKYPE_SCOPE = "service::skype.com::MBI_SSL";
/** The `state` PROFILE §2 fixes. */
export const DEFAULT_STATE = "999";

/** The fields of a successful redirect fragment. Holds secrets: never log it. */
export interface TokenFragment {
  accessToken: string;
  refreshToken: string;
  /** Seconds, as sent (0 when absent or not a number). */
  expiresIn: number;
  tokenType?: string;
  scope?: string;
  /** 16 lower-case hex digits, when the fragment carried a valid `user_id`. */
  userId?: string;
}

/**
 * Percent-encodes a query value but keeps `:` and `/` readable, so the URL is the one PROFILE §2.1
 * spells out (`scope=service::skype.com::MBI_SSL&redirect_uri=https://…`).
 */
function queryValue(v: string): string {
  return encodeURIComponent(v).replace(/%3A/gi, ":").replace(/%2F/gi, "/");
}

/** `{login}/oauth20_desktop.srf`: the only redirect_uri the server accepts (PROFILE §5). */
export function redirectUri(endpoints: Pick<SkypeEndpoints, "login">): string {
  return endpointUrl(endpoints.login, "/oauth20_desktop.srf");
}

/** The authorize query string (without `?`), shared by the authorize page and the password post. */
export function authorizeQuery(endpoints: Pick<SkypeEndpoints, "login">, state = DEFAULT_STATE): string {
  const fields: [string, string][] = [
    ["client_id", CLIENT_ID],
    ["scope", SKYPE_SCOPE],
    ["response_type", "token"],
    ["redirect_uri", redirectUri(endpoints)],
    ["state", state],
    ["locale", "en"],
  ];
  return fields.map(([k, v]) => `${k}=${queryValue(v)}`).join("&");
}

/** The URL the user opens for the browser flow. */
export function authorizeUrl(endpoints: Pick<SkypeEndpoints, "login">, state = DEFAULT_STATE): string {
  return `${endpointUrl(endpoints.login, "/oauth20_authorize.srf")}?${authorizeQuery(endpoints, state)}`;
}

/** Token fields are never legitimately spaces: a raw `+` in them is a literal `+`. */
const TOKEN_FIELDS = new Set(["access_token", "refresh_token"]);

/** Parses a form-urlencoded fragment; a malformed escape is kept as text rather than thrown. */
function parseFragment(fragment: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of fragment.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const rawKey = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? "" : part.slice(eq + 1);
    const key = safeDecode(rawKey.replace(/\+/g, " "));
    const value = safeDecode(TOKEN_FIELDS.has(key) ? rawValue : rawValue.replace(/\+/g, " "));
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Extracts the fragment from what the user pasted: the whole final URL, or just its fragment with or
 * without the leading `#`. Surrounding whitespace, quotes and angle brackets are dropped.
 */
export function extractFragment(pasted: string): string {
  const text = pasted.trim().replace(/^[<"']+|[>"']+$/g, "");
  const hash = text.indexOf("#");
  if (hash !== -1) return text.slice(hash + 1);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    // A URL without a fragment: an error redirect may carry its fields in the query instead.
    const q = text.indexOf("?");
    return q === -1 ? "" : text.slice(q + 1);
  }
  return text;
}

/**
 * Parses a redirect (a pasted URL or fragment, or a `Location` header) into tokens.
 * @throws AuthError `OAuth` for an `error=` redirect, `StateMismatch` when `state` is not `expectedState`,
 *   `BadRedirect` when there is no token.
 */
export function parseRedirect(pasted: string, expectedState: string = DEFAULT_STATE): TokenFragment {
  const fields = parseFragment(extractFragment(pasted));
  const error = fields.get("error");
  if (error) {
    const desc = fields.get("error_description");
    throw new AuthError(
      SkypeErrorCode.OAuth,
      `the sign-in was refused: ${short(error)}${desc ? ` (${short(desc)})` : ""}`,
    );
  }
  const accessToken = fields.get("access_token");
  const refreshToken = fields.get("refresh_token");
  if (!accessToken || !refreshToken) {
    throw new AuthError(
      SkypeErrorCode.BadRedirect,
      "the URL carries no access and refresh token: paste the whole address of the final page",
    );
  }
  const state = fields.get("state");
  if (state !== expectedState) {
    throw new AuthError(
      SkypeErrorCode.StateMismatch,
      "the sign-in answer does not belong to this login attempt (state mismatch): start again",
    );
  }
  const expires = Number(fields.get("expires_in"));
  const userId = fields.get("user_id");
  return {
    accessToken,
    refreshToken,
    expiresIn: Number.isFinite(expires) && expires > 0 ? expires : 0,
    tokenType: fields.get("token_type"),
    scope: fields.get("scope"),
    userId: userId === undefined ? undefined : normalizeCid(userId),
  };
}

/** Server-provided text, shortened and reduced to printable characters for a message. */
function short(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, " ").trim();
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
