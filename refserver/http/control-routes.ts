// SPDX-License-Identifier: Apache-2.0
/**
 * The HTTP side's control-API routes (all under `/http/`, JSON, loopback only):
 *
 * - `POST /http/tokens/expire {user}`: every access token of `user` expires now.
 * - `POST /http/tokens/revoke {user}`: every token of `user` is revoked (refresh → `invalid_grant`).
 * - `GET /http/knobs`: the current knobs; `POST /http/knobs {…}`: change some (see `HttpServerOptions`).
 * - `POST /http/contact-request {from, to, message?}`: `from` asks `to` to become a contact (as
 *   `ABContactAdd` would); answers `{outcome: "requested" | "completed" | "dropped"}`.
 * - `GET /http/requests[?since=<seq>]`: recent requests (no secrets); `POST /http/requests/clear`.
 * - `POST /http/avatar {user, contentBase64, mime?}` → `{etag}`: sets or changes `user`'s avatar
 *   (PROFILE §7.6; `mime` default: sniffed, PNG or JPEG) and sends `NFY 0 MSGR\ABCH` to their contacts.
 * - `POST /http/avatar/clear {user}` → `{}`: removes it (same notification).
 *
 * `user`, `from`, `to` accept an e-mail, a Skype name or an MRI.
 */
import { ControlError, type ControlApi } from "../control.js";
import { sniffContentType } from "../media/objects.js";
import type { Person, World } from "../world.js";
import { AbFault, sendContactRequest } from "./address-book.js";
import { checkKnobs, knobsView, type HttpServerOptions } from "./options.js";
import type { RequestLog } from "./request-log.js";

function person(world: World, body: Record<string, unknown>, field: string): Person {
  const id = body[field];
  if (typeof id !== "string" || !id.trim()) throw new ControlError(400, `${field} is required`);
  const p = world.find(id);
  if (!p) throw new ControlError(404, `no person ${JSON.stringify(id)}`);
  return p;
}

/** Strict base64 of a required field (standard or URL alphabet, padding optional). */
export function base64Field(body: Record<string, unknown>, field: string): Buffer {
  const v = body[field];
  if (typeof v !== "string") throw new ControlError(400, `${field} must be a base64 string`);
  const clean = v.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(clean)) throw new ControlError(400, `${field} is not base64`);
  return Buffer.from(clean, clean.includes("-") || clean.includes("_") ? "base64url" : "base64");
}

/** Registers the `/http/...` routes on the control API. */
export function registerControlRoutes(
  control: ControlApi,
  world: World,
  options: HttpServerOptions,
  log: RequestLog,
): void {
  control.route("POST", "/http/tokens/expire", (body) => {
    world.expireAccess(person(world, body, "user"));
    return { ok: true };
  });
  control.route("POST", "/http/tokens/revoke", (body) => {
    world.revokeAll(person(world, body, "user"));
    return { ok: true };
  });
  control.route("GET", "/http/knobs", () => knobsView(options));
  control.route("POST", "/http/knobs", (body) => {
    const problem = checkKnobs(body);
    if (problem) throw new ControlError(400, problem);
    Object.assign(options, body);
    return knobsView(options);
  });
  control.route("POST", "/http/contact-request", (body) => {
    const from = person(world, body, "from");
    const to = person(world, body, "to");
    const message = typeof body.message === "string" ? body.message : "";
    try {
      return { outcome: sendContactRequest(world, from, to, message) };
    } catch (e) {
      if (e instanceof AbFault) throw new ControlError(409, `${e.code}: ${e.message}`);
      throw e;
    }
  });
  control.route("POST", "/http/avatar", (body) => {
    const p = person(world, body, "user");
    const bytes = base64Field(body, "contentBase64");
    if (bytes.length === 0) throw new ControlError(400, "contentBase64 is empty");
    const mime = body.mime;
    if (mime !== undefined && (typeof mime !== "string" || !/^image\/[\w.+-]+$/.test(mime)))
      throw new ControlError(400, "mime must be an image type");
    const contentType = typeof mime === "string" ? mime : sniffContentType(bytes, "image/png");
    return { etag: world.setAvatar(p, { bytes, contentType })!.etag };
  });
  control.route("POST", "/http/avatar/clear", (body) => {
    world.setAvatar(person(world, body, "user"), undefined);
    return {};
  });
  control.route("GET", "/http/requests", (_body, query) => {
    const since = Number(query.get("since") ?? "0");
    return { requests: log.list(Number.isFinite(since) ? since : 0) };
  });
  control.route("POST", "/http/requests/clear", () => {
    log.clear();
    return { ok: true };
  });
}
