// SPDX-License-Identifier: Apache-2.0
/**
 * The object service (PROFILE §7.2, `{ams}` = `<http base>/ams`), every request authorised with a
 * skypetoken (`Authorization: skype_token <t>`; `X-Skypetoken` is accepted too):
 *
 * - `POST /ams/v1/objects` JSON `{type: "pish/image"|"sharing/file", permissions: {<conversation id>:
 *   ["read"]}, filename?}` → `201 {"id":"0-weu-d1-<32 hex>"}`; bad JSON or fields → `400`.
 * - `PUT /ams/v1/objects/{id}/content/{imgpsh|original}` raw bytes → `201`. Only the creator (`403`),
 *   once per slot (`409`); over knob `ams_max_upload_bytes` → `413` (the body is read into memory up
 *   to that size, never beyond; a refused upload is answered before its body is read).
 *   `content/imgt1` / `content/thumbnail` upload a thumbnail.
 * - `GET /ams/v1/objects/{id}/views/{view}/status` → `{content_length, content_state, view_state,
 *   view_location, original_filename}`. A view is `ready` once it has content, knob
 *   `ams_view_ready_delay_ms` has passed since the upload and knob `ams_never_ready` is off.
 * - `GET /ams/v1/objects/{id}/views/{view}` → the bytes with `Content-Type` and `Content-Length`;
 *   `404` while the view is not ready or has no content (a file's `thumbnail` without one).
 *
 * Views: images `imgpsh_fullsize`, `imgpsh`, `imgt1` (the thumbnail, else the full image); files
 * `original`, `thumbnail`. Any other view → `404`. Readers (status and download): the creator and
 * the members of every conversation in `permissions` — a person by either identity, a thread by its
 * members at read time (`403` for others). Unknown object → `404`; missing, bad or expired
 * skypetoken → `401`, checked first.
 */
import type { Person } from "../world.js";
import {
  contentSlot,
  isObjectType,
  sniffContentType,
  viewContent,
  viewSource,
  type AmsObject,
  type ObjectContent,
} from "../media/objects.js";
import type { HttpContext, HttpRequest, PatternRoute } from "./context.js";
import { jsonReply, type Reply } from "./http-util.js";
import { authenticate } from "./skypetoken.js";

/** Longest accepted `filename` and conversation id, and most `permissions` entries. */
const MAX_FILENAME = 1024;
const MAX_PERMISSION_KEY = 512;
const MAX_PERMISSIONS = 256;

const error = (status: number, text: string): Reply => jsonReply(status, { status: { code: status, text } });

/** Whether `reader` may read `o` (creator, or a member of a conversation in its permissions). */
export function canRead(ctx: HttpContext, o: AmsObject, reader: Person): boolean {
  if (o.creator === reader.key) return true;
  for (const conversation of Object.keys(o.permissions)) {
    if (conversation.startsWith("19:")) {
      if (ctx.world.threadMembers(conversation)?.includes(reader.key)) return true;
    } else if (ctx.world.find(conversation)?.key === reader.key) return true;
  }
  return false;
}

/** Whether the view's content can be served now (knobs `ams_view_ready_delay_ms`, `ams_never_ready`). */
export function isReady(ctx: HttpContext, c: ObjectContent | undefined): c is ObjectContent {
  if (!c || ctx.options.ams_never_ready) return false;
  return ctx.world.now() >= c.uploadedAt + ctx.options.ams_view_ready_delay_ms;
}

/** The base of object URLs: `{ams}`. */
export function amsBase(ctx: HttpContext): string {
  return `${ctx.baseUrl()}/ams`;
}

function parseCreate(
  body: Buffer,
): { type: AmsObject["type"]; permissions: Record<string, string[]>; filename?: string } | string {
  let v: unknown;
  try {
    v = JSON.parse(body.toString("utf8"));
  } catch {
    return "the body is not JSON";
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "the body must be a JSON object";
  const o = v as Record<string, unknown>;
  if (!isObjectType(o.type)) return 'type must be "pish/image" or "sharing/file"';
  const perms = o.permissions ?? {};
  if (typeof perms !== "object" || perms === null || Array.isArray(perms))
    return "permissions must be an object of conversation id → rights";
  const entries = Object.entries(perms);
  if (entries.length > MAX_PERMISSIONS) return "too many permissions";
  const permissions: Record<string, string[]> = {};
  for (const [k, rights] of entries) {
    if (!k || k.length > MAX_PERMISSION_KEY) return "a permission's conversation id is empty or too long";
    if (!Array.isArray(rights) || !rights.every((r) => typeof r === "string"))
      return "each permission is a list of rights";
    permissions[k] = rights;
  }
  if (o.filename !== undefined && (typeof o.filename !== "string" || o.filename.length > MAX_FILENAME))
    return "filename must be a string";
  return { type: o.type, permissions, filename: o.filename };
}

function create(ctx: HttpContext, rq: HttpRequest): Reply {
  const auth = authenticate(ctx, rq);
  if ("reply" in auth) return auth.reply;
  const spec = parseCreate(rq.body);
  if (typeof spec === "string") {
    rq.note({ user: auth.person.key, outcome: "bad_request" });
    return error(400, spec);
  }
  const o = ctx.world.objects.create({ ...spec, creator: auth.person.key, now: ctx.world.now() });
  rq.note({ user: auth.person.key, object: o.id, type: o.type, permissions: Object.keys(o.permissions) });
  return jsonReply(201, { id: o.id });
}

/** The object named in the path, after the token check: the object and reader, or the reply. */
function target(ctx: HttpContext, rq: HttpRequest): { o: AmsObject; person: Person } | { reply: Reply } {
  const auth = authenticate(ctx, rq);
  if ("reply" in auth) return auth;
  const o = ctx.world.objects.get(rq.params[0] ?? "");
  if (!o) {
    rq.note({ user: auth.person.key, outcome: "unknown_object" });
    return { reply: error(404, "no such object") };
  }
  return { o, person: auth.person };
}

/** The upload's checks (token, object, slot, creator, once): the slot to fill, or the refusal. */
function uploadTarget(
  ctx: HttpContext,
  rq: HttpRequest,
): { o: AmsObject; slot: "full" | "thumbnail" } | { reply: Reply } {
  const t = target(ctx, rq);
  if ("reply" in t) return t;
  const { o, person } = t;
  const slotName = (rq.params[1] ?? "").toLowerCase();
  const slot = contentSlot(slotName);
  rq.note({ user: person.key, object: o.id, content: slotName });
  if (!slot) return { reply: error(404, `no content ${slotName}`) };
  if (o.creator !== person.key) {
    rq.note({ outcome: "not_creator" });
    return { reply: error(403, "only the creator may upload") };
  }
  if (o[slot]) {
    rq.note({ outcome: "already_uploaded" });
    return { reply: error(409, "the content was already uploaded") };
  }
  return { o, slot };
}

function upload(ctx: HttpContext, rq: HttpRequest): Reply {
  // Checked again after the body arrived: another upload may have finished meanwhile.
  const t = uploadTarget(ctx, rq);
  if ("reply" in t) return t.reply;
  const { o, slot } = t;
  rq.note({ bytes: rq.body.length });
  const declared = rq.headers["content-type"];
  o[slot] = {
    bytes: rq.body,
    contentType: sniffContentType(rq.body, typeof declared === "string" ? declared : undefined),
    uploadedAt: ctx.world.now(),
  };
  rq.note({ outcome: "ok" });
  return { status: 201, headers: { "content-type": "application/json; charset=utf-8" }, body: "{}" };
}

/** The readable object and its view, or the reply (401/404/403). */
function readable(
  ctx: HttpContext,
  rq: HttpRequest,
): { o: AmsObject; view: string; content?: ObjectContent } | { reply: Reply } {
  const t = target(ctx, rq);
  if ("reply" in t) return t;
  const { o, person } = t;
  const view = (rq.params[1] ?? "").toLowerCase();
  rq.note({ user: person.key, object: o.id, view });
  if (!canRead(ctx, o, person)) {
    rq.note({ outcome: "forbidden" });
    return { reply: error(403, "not permitted") };
  }
  if (!viewSource(o.type, view)) {
    rq.note({ outcome: "unknown_view" });
    return { reply: error(404, `no view ${view} for ${o.type}`) };
  }
  return { o, view, content: viewContent(o, view) };
}

function status(ctx: HttpContext, rq: HttpRequest): Reply {
  const r = readable(ctx, rq);
  if ("reply" in r) return r.reply;
  const ready = isReady(ctx, r.content);
  rq.note({ viewState: ready ? "ready" : "none" });
  return jsonReply(200, {
    content_length: r.content?.bytes.length ?? 0,
    content_state: r.o.full ? "ready" : "no content",
    view_state: ready ? "ready" : "none",
    view_location: `${amsBase(ctx)}/v1/objects/${r.o.id}/views/${r.view}`,
    original_filename: r.o.filename ?? "",
  });
}

function download(ctx: HttpContext, rq: HttpRequest): Reply {
  const r = readable(ctx, rq);
  if ("reply" in r) return r.reply;
  if (!isReady(ctx, r.content)) {
    rq.note({ outcome: r.content ? "not_ready" : "no_content" });
    return error(404, r.content ? "the view is not ready" : "the view has no content");
  }
  rq.note({ outcome: "ok", bytes: r.content.bytes.length });
  return {
    status: 200,
    headers: {
      "content-type": r.content.contentType,
      "content-length": String(r.content.bytes.length),
      "cache-control": "private, no-store",
    },
    body: r.content.bytes,
  };
}

/** The object-service routes. */
export function amsRoutes(ctx: HttpContext): PatternRoute[] {
  return [
    {
      pattern: /^\/ams\/v1\/objects\/?$/i,
      route: { endpoint: "ams_create", methods: ["POST"], handler: (rq) => create(ctx, rq) },
    },
    {
      pattern: /^\/ams\/v1\/objects\/([^/]+)\/content\/([^/]+)$/i,
      route: {
        endpoint: "ams_upload",
        methods: ["PUT"],
        handler: (rq) => upload(ctx, rq),
        bodyLimit: () => ctx.options.ams_max_upload_bytes,
        beforeBody: (rq) => {
          const t = uploadTarget(ctx, rq);
          return "reply" in t ? t.reply : undefined;
        },
      },
    },
    {
      pattern: /^\/ams\/v1\/objects\/([^/]+)\/views\/([^/]+)\/status$/i,
      route: { endpoint: "ams_status", methods: ["GET"], handler: (rq) => status(ctx, rq) },
    },
    {
      pattern: /^\/ams\/v1\/objects\/([^/]+)\/views\/([^/]+)$/i,
      route: { endpoint: "ams_download", methods: ["GET"], handler: (rq) => download(ctx, rq) },
    },
  ];
}
