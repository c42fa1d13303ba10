// SPDX-License-Identifier: Apache-2.0
/**
 * The Skype API calls of the sign-in (PROFILE §2.2–2.3): `/rps/me` (profile, JSON or JSONP) and
 * `/partners/999/usermap` (the account's Skype name and Microsoft account).
 */
import { AuthError, ProtocolParseError, SkypeError, SkypeErrorCode } from "../errors.js";
import { httpRequest, unexpectedStatus, type HttpOptions } from "../http.js";
import {
  endpointUrl,
  msaMri,
  normalizeCid,
  skypeMri,
  type AccountIdentities,
  type Profile,
  type SkypeEndpoints,
} from "../model.js";

export interface AccountCallOptions extends HttpOptions {
  signal?: AbortSignal;
  /** Clock for the `_=<ms>` cache buster. */
  now?: () => number;
}

/** The fields of `/partners/999/usermap`. */
export interface UserMap {
  uid?: string;
  /** The Skype name (`live:alice_1`). */
  username?: string;
  status: string;
  /** The Microsoft account (`alice@hotmail.co.uk`). */
  partnerUsername?: string;
}

const JS_IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

/** Parses a body that is either JSON or JSONP (`name(<json>)`, optional `;`). */
export function parseJsonOrJsonp(text: string, what: string): unknown {
  const body = text.replace(/^\uFEFF/, "").trim();
  const jsonp = /^(?:\/\*\*\/\s*)?[A-Za-z_$][\w$.]*\s*\(([\s\S]*)\)\s*;?$/.exec(body);
  const json = jsonp ? jsonp[1]! : body;
  try {
    return JSON.parse(json) as unknown;
  } catch (e) {
    throw new ProtocolParseError(SkypeErrorCode.Parse, `${what}: the answer is neither JSON nor JSONP`, {
      cause: e,
    });
  }
}

function str(v: unknown): string | undefined {
  if (typeof v === "string") return v.trim() || undefined;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return undefined;
}

function authStatus(what: string, status: number): SkypeError {
  if (status === 401 || status === 403) {
    return new AuthError(
      SkypeErrorCode.BadCredentials,
      `${what}: the access token was refused (HTTP ${status})`,
    );
  }
  return unexpectedStatus(what, status);
}

/**
 * `GET {api}/rps/me`: the signed-in account's profile.
 * @param jsonCallback ask for JSONP with this callback; it must be a plain JS identifier.
 * @throws SkypeError `InvalidArgument` for a bad callback name (nothing is sent), `Parse`, `HttpStatus`, `Network`.
 */
export async function fetchProfile(
  endpoints: Pick<SkypeEndpoints, "api">,
  accessToken: string,
  opts: AccountCallOptions & { jsonCallback?: string } = {},
): Promise<Profile> {
  const what = "rps/me";
  if (opts.jsonCallback !== undefined && !JS_IDENTIFIER.test(opts.jsonCallback)) {
    throw new SkypeError(
      SkypeErrorCode.InvalidArgument,
      `${what}: the JSONP callback must be a plain identifier`,
      false,
    );
  }
  const now = (opts.now ?? Date.now)();
  const cb = opts.jsonCallback ? `&jsoncallback=${opts.jsonCallback}` : "";
  const url = `${endpointUrl(endpoints.api, "/rps/me")}?access_token=${encodeURIComponent(accessToken)}${cb}&_=${now}`;
  const res = await httpRequest(opts, { method: "GET", url, what, signal: opts.signal });
  if (res.status !== 200) throw authStatus(what, res.status);
  const data = parseJsonOrJsonp(res.body.toString("utf8"), what);
  if (typeof data !== "object" || data === null) {
    throw new ProtocolParseError(SkypeErrorCode.Parse, `${what}: the answer is not an object`);
  }
  const o = data as Record<string, unknown>;
  const cidText = str(o.cid);
  const cid = cidText === undefined ? undefined : normalizeCid(cidText);
  if (!cid) throw new ProtocolParseError(SkypeErrorCode.Parse, `${what}: the answer has no valid cid`);
  const firstName = str(o.firstName);
  const lastName = str(o.lastName);
  const email = str(o.email);
  return {
    cid,
    displayName: [firstName, lastName].filter(Boolean).join(" ") || email || cid,
    firstName,
    lastName,
    email,
    country: str(o.country),
    gender: str(o.gender),
    birthdate: str(o.birthdate),
    siteName: str(o.siteName),
    siteId: str(o.siteId),
  };
}

/**
 * `GET {api}/partners/999/usermap`: the account's Skype name and Microsoft account.
 * @throws AuthError `AccountNotActive` when `status` is not `ACTIVE` (the status is in the message).
 */
export async function fetchUserMap(
  endpoints: Pick<SkypeEndpoints, "api">,
  accessToken: string,
  opts: AccountCallOptions = {},
): Promise<UserMap & { username: string; identities: AccountIdentities }> {
  const what = "usermap";
  const now = (opts.now ?? Date.now)();
  const url =
    `${endpointUrl(endpoints.api, "/partners/999/usermap")}?access_token=${encodeURIComponent(accessToken)}` +
    `&_accept=1.0&_=${now}`;
  const res = await httpRequest(opts, { method: "GET", url, what, signal: opts.signal });
  if (res.status !== 200) throw authStatus(what, res.status);
  const data = parseJsonOrJsonp(res.body.toString("utf8"), what);
  if (typeof data !== "object" || data === null) {
    throw new ProtocolParseError(SkypeErrorCode.Parse, `${what}: the answer is not an object`);
  }
  const o = data as Record<string, unknown>;
  const status = str(o.status);
  if (!status) throw new ProtocolParseError(SkypeErrorCode.Parse, `${what}: the answer has no status`);
  if (status.toUpperCase() !== "ACTIVE") {
    const shown = status.replace(/[^\w .:-]/g, "").slice(0, 60);
    throw new AuthError(
      SkypeErrorCode.AccountNotActive,
      `this Microsoft account cannot use Skype: its status is ${shown}`,
    );
  }
  // Be liberal: a server that already wrote MRIs gets them back without a doubled prefix.
  const username = str(o.username)?.replace(/^8:/, "");
  const partnerUsername = str(o.partnerUsername)?.replace(/^1:/, "");
  if (!username) {
    throw new ProtocolParseError(SkypeErrorCode.Parse, `${what}: an ACTIVE account without a Skype name`);
  }
  return {
    uid: str(o.uid),
    username,
    status,
    partnerUsername,
    identities: {
      skype: skypeMri(username),
      ...(partnerUsername ? { msa: msaMri(partnerUsername) } : {}),
    },
  };
}
