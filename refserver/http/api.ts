// SPDX-License-Identifier: Apache-2.0
/**
 * The `api` base (PROFILE §2.2, §2.3: `/rps/me` as JSON or JSONP, `/partners/999/usermap`) and the
 * `skype_login` base (PROFILE §2.5 [A]: `POST /login/uic`, a UIC bound to the MSNP CNT nonce).
 */
import { SCOPES, type Person, type TokenCheck } from "../world.js";
import type { HttpContext, HttpRequest, Route } from "./context.js";
import { jsonReply, parseForm, type Reply } from "./http-util.js";

/** A plain JavaScript identifier (no dots, brackets or anything else a callback could smuggle in). */
const JS_IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]{0,127}$/;
/** Longest CNT nonce accepted for a UIC. */
const MAX_NONCE = 512;

function authFailure(check: Exclude<TokenCheck, { ok: true }>): Reply {
  return jsonReply(401, {
    status: {
      code: 40120,
      text: `Authentication failed (${check.reason === "invalid" ? "unknown" : check.reason} token)`,
    },
  });
}

function profile(p: Person): Record<string, unknown> {
  return {
    gender: "U",
    siteId: "292841",
    firstName: p.firstName,
    lastName: p.lastName,
    cid: p.cid,
    siteName: "api.skype.com",
    country: "GB",
    email: p.email ?? "",
    birthdate: "",
  };
}

/** `GET /rps/me`: the profile; with `jsoncallback=<identifier>` wrapped as `name(<json>)`. */
function rpsMe(ctx: HttpContext, rq: HttpRequest): Reply {
  const q = rq.url.searchParams;
  const callback = q.get("jsoncallback");
  if (callback !== null && !JS_IDENTIFIER.test(callback)) {
    rq.note({ outcome: "bad_callback" });
    return jsonReply(400, { status: { code: 40000, text: "jsoncallback must be a plain identifier" } });
  }
  const check = ctx.world.checkAccess(q.get("access_token"), SCOPES.skype);
  if (!check.ok) {
    rq.note({ outcome: check.reason });
    return authFailure(check);
  }
  rq.note({ user: check.person.key, jsonp: callback !== null });
  const json = JSON.stringify(profile(check.person));
  if (callback === null) return jsonReply(200, profile(check.person));
  return {
    status: 200,
    headers: { "content-type": "application/javascript; charset=utf-8", "cache-control": "no-store" },
    body: `${callback}(${json})`,
  };
}

/** `GET /partners/999/usermap`: the Skype name behind a Microsoft account. */
function usermap(ctx: HttpContext, rq: HttpRequest): Reply {
  const check = ctx.world.checkAccess(rq.url.searchParams.get("access_token"), SCOPES.skype);
  if (!check.ok) {
    rq.note({ outcome: check.reason });
    return authFailure(check);
  }
  const p = check.person;
  const status = p.skypename ? p.status : "NOT_LINKED";
  rq.note({ user: p.key, status });
  return jsonReply(200, {
    uid: BigInt("0x" + p.cid).toString(),
    username: p.skypename ?? "",
    status,
    partnerUsername: p.email ?? "",
  });
}

/** `POST /login/uic` [A]: form `access_token` (login.skype.com scope) and `nonce` → `{uic, skypename}`. */
function uic(ctx: HttpContext, rq: HttpRequest): Reply {
  const form = parseForm(rq.body.toString("utf8"));
  const check = ctx.world.checkAccess(form.get("access_token"), SCOPES.uic);
  if (!check.ok) {
    rq.note({ outcome: check.reason });
    return authFailure(check);
  }
  const nonce = form.get("nonce") ?? "";
  if (!nonce || nonce.length > MAX_NONCE) {
    rq.note({ user: check.person.key, outcome: "bad_nonce" });
    return jsonReply(400, { error: "invalid_request", error_description: "nonce is missing or too long" });
  }
  const p = check.person;
  if (!p.skypename) {
    rq.note({ user: p.key, outcome: "not_linked" });
    return jsonReply(403, { error: "not_linked", error_description: "The account has no Skype name." });
  }
  rq.note({ user: p.key, outcome: "ok" });
  return jsonReply(200, { uic: ctx.world.issueUic(p, nonce), skypename: p.skypename });
}

/** The api and skype_login routes. The UIC path is a knob, so it is looked up per request. */
export function apiRoutes(ctx: HttpContext): Map<string, Route> {
  const routes = new Map<string, Route>();
  routes.set("/rps/me", { endpoint: "me", methods: ["GET"], handler: (rq) => rpsMe(ctx, rq) });
  routes.set("/partners/999/usermap", {
    endpoint: "usermap",
    methods: ["GET"],
    handler: (rq) => usermap(ctx, rq),
  });
  return routes;
}

/** The UIC route (served at `options.uicPath`). */
export function uicRoute(ctx: HttpContext): Route {
  return { endpoint: "uic", methods: ["POST"], handler: (rq) => uic(ctx, rq) };
}
