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
 *
 * `user`, `from`, `to` accept an e-mail, a Skype name or an MRI.
 */
import { ControlError, type ControlApi } from "../control.js";
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
  control.route("GET", "/http/requests", (_body, query) => {
    const since = Number(query.get("since") ?? "0");
    return { requests: log.list(Number.isFinite(since) ? since : 0) };
  });
  control.route("POST", "/http/requests/clear", () => {
    log.clear();
    return { ok: true };
  });
}
