// SPDX-License-Identifier: Apache-2.0
/**
 * Options ("knobs") of the reference server's HTTP side. Every choice PROFILE.md or REFERENCE.md marks
 * [A] (nothing public is known) is a named option here, so a real server's behaviour can be matched
 * later without code changes. Everything but `port`, `publicUrl` and `logger` can also be changed at
 * run time through the control API (`POST /http/knobs`).
 */

/** The endpoints, by name, as used by failure injection, delays and the request log. */
export const HTTP_ENDPOINTS = [
  "authorize",
  "desktop",
  "post",
  "token",
  "me",
  "usermap",
  "uic",
  "sharing",
  "abservice",
  "activesync",
  "skypetoken",
  "ams_create",
  "ams_upload",
  "ams_status",
  "ams_download",
  "avatar",
] as const;
export type HttpEndpoint = (typeof HTTP_ENDPOINTS)[number];

/** Where the server writes its own log lines. Never given a secret. */
export type HttpLogger = (
  level: "info" | "warn" | "error",
  message: string,
  context?: Record<string, unknown>,
) => void;

export interface HttpServerOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /**
   * The base URL the server believes it is reachable at (`{login}` in PROFILE §2): the exact
   * `redirect_uri` it requires and the form `action` it writes. Default: `http://127.0.0.1:<port>`.
   */
  publicUrl: string | null;
  /** Largest request body accepted; bigger ones get 413 (bodies are drained, never buffered, beyond this). */
  maxBodyBytes: number;

  /**
   * [A] How a wrong e-mail or password is shown (PROFILE §2): `"sErrTxt"` = a `200` page holding
   * `sErrTxt:'<message>'` in its script (the profile's choice); `"errorDiv"` = a `200` page holding
   * `<div id="usernameError">message</div>` instead. Both carry a fresh PPFT.
   */
  wrongPasswordPage: "sErrTxt" | "errorDiv";
  /** [A] The text of the wrong-credentials message. */
  wrongPasswordMessage: string;
  /**
   * [A] The page an account with a second factor gets after a correct password (PROFILE §2):
   * `"SAOTCC"` = `id="idDiv_SAOTCC_Title"` (enter a code; the profile's choice), `"SAOTCS"` =
   * `id="idDiv_SAOTCS_Title"` (choose a proof method).
   */
  secondFactorPage: "SAOTCC" | "SAOTCS";
  /** [A] Path of the UIC endpoint on the `skype_login` base (PROFILE §2.5). */
  uicPath: string;

  /**
   * [A] ABCH `ServiceHeader/CacheKey` behaviour: `"stable"` = one key per account and service,
   * `CacheKeyChanged` true whenever the request did not carry it; `"rotate"` = a new key on every
   * reply (always `CacheKeyChanged` true); `"none"` = no key, `CacheKeyChanged` false.
   */
  abchCacheKey: "stable" | "rotate" | "none";
  /** [A] `ServiceHeader/PreferredHostName` to send (e.g. `localhost:<port>`); null sends none. */
  abchPreferredHostName: string | null;
  /**
   * [A] Roles with no members in `FindMembership`/`FindMembershipByRole`: `"omit"` leaves their
   * `Membership` out (and `Services` too when none is left, as in the 2014 capture); `"empty"`
   * answers each asked role with an empty `Members`.
   */
  abchEmptyMemberships: "omit" | "empty";
  /**
   * [A] `FindAllBlockedContacts` result: `"list"` = `BlockedContact{Mri, DisplayName}` elements
   * (PROFILE §4); `"empty"` = always an empty result (what the 2014 capture showed).
   */
  blockedContactsResult: "list" | "empty";

  /**
   * ActiveSync `Sync` page size: at most this many changes per reply (a smaller client `WindowSize`
   * wins). The default 1 makes paging happen even for small address books.
   */
  activesyncWindowSize: number;
  /** [A] Folder `Type` values: the default contacts folder (`PPL`) and the others (MS-ASCMD 9 / 14). */
  folderTypes: { default: number; user: number };
  /**
   * [A] The private code page 0xFE `PropertyBag` with the folder's `SID` in `FolderSync` adds:
   * `"requested"` = only when the request's bag asked for `SID`; `"always"`; `"never"`.
   */
  folderSidProperty: "requested" | "always" | "never";
  /** [A] `Contacts2:IMAddress`: `"mri"` = `8:live:bob_1` (PROFILE §4), `"bare"` = `live:bob_1`. */
  imAddressFormat: "mri" | "bare";

  /** Seconds a skypetoken lives (`expiresIn` of `POST {api}/rps/skypetoken`, PROFILE §7.1). Default 86400. */
  skypetoken_lifetime_s: number;
  /**
   * [A] Largest object upload (`PUT {ams}/v1/objects/{id}/content/…`, PROFILE §7.2); bigger ones get
   * `413`. Uploads are read into memory up to this size, never beyond. Default 100 MiB.
   */
  ams_max_upload_bytes: number;
  /**
   * Milliseconds after an upload before its views report `view_state: "ready"` and can be downloaded
   * (until then `"none"` and `404`), so a message can arrive before its object is ready. Default 0.
   */
  ams_view_ready_delay_ms: number;
  /** Views never become ready (`view_state` stays `"none"`, downloads `404`). Default false. */
  ams_never_ready: boolean;

  /** Failure injection: the next N requests to an endpoint get `failStatus` (counts go down). */
  failNext: Partial<Record<HttpEndpoint, number>>;
  /** HTTP status used by `failNext`. */
  failStatus: number;
  /** Milliseconds every reply is held back. */
  delayMs: number;
  /** Milliseconds replies of one endpoint are held back (added to `delayMs`). */
  delays: Partial<Record<HttpEndpoint, number>>;
  /** How many recent requests `GET /http/requests` keeps. */
  requestLogSize: number;
  /** Log sink; default drops everything. */
  logger: HttpLogger;
}

/** The defaults: PROFILE.md's choice for every [A] item. */
export function defaultHttpOptions(): HttpServerOptions {
  return {
    port: 0,
    publicUrl: null,
    maxBodyBytes: 1024 * 1024,
    wrongPasswordPage: "sErrTxt",
    wrongPasswordMessage: "Your account or password is incorrect.",
    secondFactorPage: "SAOTCC",
    uicPath: "/login/uic",
    abchCacheKey: "stable",
    abchPreferredHostName: null,
    abchEmptyMemberships: "omit",
    blockedContactsResult: "list",
    activesyncWindowSize: 1,
    folderTypes: { default: 9, user: 14 },
    folderSidProperty: "requested",
    imAddressFormat: "mri",
    skypetoken_lifetime_s: 86400,
    ams_max_upload_bytes: 100 * 1024 * 1024,
    ams_view_ready_delay_ms: 0,
    ams_never_ready: false,
    failNext: {},
    failStatus: 500,
    delayMs: 0,
    delays: {},
    requestLogSize: 200,
    logger: () => {},
  };
}

type KnobCheck = (v: unknown) => boolean;
const isNat = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v) && v >= 0;
const oneOf =
  (...xs: string[]): KnobCheck =>
  (v) =>
    typeof v === "string" && xs.includes(v);
const endpointMap: KnobCheck = (v) =>
  typeof v === "object" &&
  v !== null &&
  Object.entries(v).every(([k, n]) => (HTTP_ENDPOINTS as readonly string[]).includes(k) && isNat(n));

const KNOBS: Record<string, KnobCheck> = {
  maxBodyBytes: (v) => isNat(v) && (v as number) > 0,
  wrongPasswordPage: oneOf("sErrTxt", "errorDiv"),
  wrongPasswordMessage: (v) => typeof v === "string",
  secondFactorPage: oneOf("SAOTCC", "SAOTCS"),
  uicPath: (v) => typeof v === "string" && v.startsWith("/"),
  abchCacheKey: oneOf("stable", "rotate", "none"),
  abchPreferredHostName: (v) => v === null || (typeof v === "string" && /^[A-Za-z0-9.:[\]-]+$/.test(v)),
  abchEmptyMemberships: oneOf("omit", "empty"),
  blockedContactsResult: oneOf("list", "empty"),
  activesyncWindowSize: (v) => isNat(v) && (v as number) >= 1 && (v as number) <= 512,
  folderTypes: (v) =>
    typeof v === "object" &&
    v !== null &&
    isNat((v as { default?: unknown }).default) &&
    isNat((v as { user?: unknown }).user),
  folderSidProperty: oneOf("requested", "always", "never"),
  imAddressFormat: oneOf("mri", "bare"),
  skypetoken_lifetime_s: (v) => isNat(v) && (v as number) >= 1,
  ams_max_upload_bytes: (v) => isNat(v) && (v as number) >= 1,
  ams_view_ready_delay_ms: isNat,
  ams_never_ready: (v) => typeof v === "boolean",
  failNext: endpointMap,
  failStatus: (v) => isNat(v) && (v as number) >= 100 && (v as number) <= 599,
  delayMs: isNat,
  delays: endpointMap,
  requestLogSize: (v) => isNat(v) && (v as number) >= 1,
};

/**
 * Checks run-time knob changes (from the control API). Returns an error message, or undefined when
 * every key is a known knob with a value of the right kind.
 */
export function checkKnobs(knobs: Record<string, unknown>): string | undefined {
  for (const [k, v] of Object.entries(knobs)) {
    const check = KNOBS[k];
    if (!check) return `unknown or fixed knob ${JSON.stringify(k)}`;
    if (!check(v)) return `bad value for knob ${k}`;
  }
  return undefined;
}

/** The knobs as JSON (without the logger). */
export function knobsView(o: HttpServerOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(KNOBS)) out[k] = o[k as keyof HttpServerOptions];
  return out;
}
