// SPDX-License-Identifier: Apache-2.0
/**
 * The skypetoken (PROFILE §7.1): `POST {api}/rps/skypetoken`, form
 * `scopes=client&clientVersion=…&partner=999&access_token=<service::skype.com::MBI_SSL token>` →
 * `{"skypetoken":"<opaque>","expiresIn":<seconds>}` (knob `skypetoken_lifetime_s`). An unknown,
 * expired or wrong-scope access token → `401`. Skypetokens expire, and `POST /http/tokens/expire`
 * and `/http/tokens/revoke` end them too. Also the check the object service (§7.2) and avatars
 * (§7.6) use: `Authorization: skype_token <t>` or `X-Skypetoken: <t>` (both accepted on both).
 */
import type { IncomingHttpHeaders } from "node:http";
import { SCOPES, type Person } from "../world.js";
import type { HttpContext, HttpRequest, Route } from "./context.js";
import { jsonReply, parseForm, type Reply } from "./http-util.js";

/** `POST /rps/skypetoken`. The other form fields (`scopes`, `clientVersion`, `partner`) are not checked. */
function skypetoken(ctx: HttpContext, rq: HttpRequest): Reply {
  const form = parseForm(rq.body.toString("utf8"));
  const check = ctx.world.checkAccess(form.get("access_token"), SCOPES.skype);
  if (!check.ok) {
    rq.note({ outcome: check.reason });
    return jsonReply(401, {
      status: { code: 40120, text: `Authentication failed (${check.reason} access token)` },
    });
  }
  const lifetime = ctx.options.skypetoken_lifetime_s;
  rq.note({ user: check.person.key, outcome: "ok", expiresIn: lifetime });
  return jsonReply(200, {
    skypetoken: ctx.world.issueSkypetoken(check.person, lifetime),
    expiresIn: lifetime,
  });
}

export function skypetokenRoutes(ctx: HttpContext): Map<string, Route> {
  return new Map([
    ["/rps/skypetoken", { endpoint: "skypetoken", methods: ["POST"], handler: (rq) => skypetoken(ctx, rq) }],
  ]);
}

/** The skypetoken a request carries: `Authorization: skype_token <t>` (any case), else `X-Skypetoken`. */
export function skypetokenOf(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  const m = typeof auth === "string" ? /^\s*skype_?token\s+(\S+)\s*$/i.exec(auth) : null;
  if (m) return m[1];
  const x = headers["x-skypetoken"];
  const v = Array.isArray(x) ? x[0] : x;
  return v?.trim() || undefined;
}

/** The person behind the request's skypetoken, or the `401` reply to send. */
export function authenticate(ctx: HttpContext, rq: HttpRequest): { person: Person } | { reply: Reply } {
  const check = ctx.world.checkSkypetoken(skypetokenOf(rq.headers));
  if (check.ok) return { person: check.person };
  rq.note({ outcome: `${check.reason}_skypetoken` });
  return {
    reply: jsonReply(
      401,
      { status: { code: 40120, text: `Authentication failed (${check.reason} skypetoken)` } },
      {
        "www-authenticate": "skype_token",
      },
    ),
  };
}
