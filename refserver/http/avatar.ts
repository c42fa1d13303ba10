// SPDX-License-Identifier: Apache-2.0
/**
 * Avatars (PROFILE §7.6 [A]): `GET {api}/users/{identity}/profile/avatar` with `X-Skypetoken: <t>`
 * (`Authorization: skype_token <t>` is accepted too; the identity URL-encoded, `8:live:bob_1` or
 * `1:frank@outlook.com`, or an e-mail / Skype name) → the image with its `Content-Type` and `ETag`;
 * `If-None-Match` with the current ETag → `304`; a person without an avatar, or no such person →
 * `404`; missing, bad or expired skypetoken → `401`. Avatars are set and cleared through the control
 * API (`POST /http/avatar`, `/http/avatar/clear`), which tells the person's contacts with
 * `NFY 0 MSGR\ABCH` (World.setAvatar).
 */
import type { HttpContext, HttpRequest, PatternRoute } from "./context.js";
import { jsonReply, type Reply } from "./http-util.js";
import { authenticate } from "./skypetoken.js";

/** Whether an `If-None-Match` header names `etag` (a list, `*`, weak forms all count). */
function matches(header: string | string[] | undefined, etag: string): boolean {
  const v = Array.isArray(header) ? header.join(",") : header;
  if (!v) return false;
  return v.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

function avatar(ctx: HttpContext, rq: HttpRequest): Reply {
  const auth = authenticate(ctx, rq);
  if ("reply" in auth) return auth.reply;
  const identity = rq.params[0] ?? "";
  const p = ctx.world.find(identity);
  rq.note({ user: auth.person.key, of: p?.key ?? "unknown" });
  const a = p?.avatar;
  if (!a) {
    rq.note({ outcome: p ? "no_avatar" : "unknown_person" });
    return jsonReply(404, { status: { code: 404, text: "no avatar" } });
  }
  if (matches(rq.headers["if-none-match"], a.etag)) {
    rq.note({ outcome: "not_modified" });
    return { status: 304, headers: { etag: a.etag, "cache-control": "private, no-cache" } };
  }
  rq.note({ outcome: "ok" });
  return {
    status: 200,
    headers: {
      "content-type": a.contentType,
      "content-length": String(a.bytes.length),
      etag: a.etag,
      "cache-control": "private, no-cache",
    },
    body: a.bytes,
  };
}

export function avatarRoutes(ctx: HttpContext): PatternRoute[] {
  return [
    {
      pattern: /^\/users\/([^/]+)\/profile\/avatar$/i,
      route: { endpoint: "avatar", methods: ["GET"], handler: (rq) => avatar(ctx, rq) },
    },
  ];
}
