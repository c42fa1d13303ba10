// SPDX-License-Identifier: Apache-2.0
/**
 * What every endpoint handler of the reference server's HTTP side is given: the world, the live
 * options (knobs change at run time) and the request with its body already read.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { World } from "../world.js";
import type { Reply } from "./http-util.js";
import type { HttpEndpoint, HttpServerOptions } from "./options.js";

/** Shared by all handlers of one server. */
export interface HttpContext {
  readonly world: World;
  /** The live options: read them on every request, knobs may have changed. */
  readonly options: HttpServerOptions;
  /** `{login}` etc.: the public base URL, without a trailing slash. */
  baseUrl(): string;
}

/** One request as handlers see it. */
export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The capture groups of a pattern route's path (decoded); empty for fixed paths. */
  readonly params: readonly string[];
  /** Adds details to this request's log entry (never pass a secret). */
  note(details: Record<string, unknown>): void;
}

export type Handler = (rq: HttpRequest) => Reply | Promise<Reply>;

/** A path served by the server. */
export interface Route {
  endpoint: HttpEndpoint;
  /** Allowed methods; others get 405. */
  methods: readonly string[];
  handler: Handler;
  /** Largest body this route reads (default: the `maxBodyBytes` knob); bigger ones get `413`. */
  bodyLimit?: () => number;
  /**
   * Runs before the body is read (the request's `body` is empty then): a reply here is sent at once
   * and the body discarded unread, so an upload that will be refused is never buffered.
   */
  beforeBody?: (rq: HttpRequest) => Reply | undefined;
}

/** A route whose path has variable parts (`/ams/v1/objects/{id}/…`); groups become `params`. */
export interface PatternRoute {
  /** Matched against the path as sent (still percent-encoded), case-insensitively. */
  pattern: RegExp;
  route: Route;
}

/** The Microsoft client id of Skype (PROFILE §2). */
export const CLIENT_ID = "00000000480BC46C";
