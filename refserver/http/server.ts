// SPDX-License-Identifier: Apache-2.0
/**
 * The reference server's HTTP side: every HTTP endpoint of PROFILE §1 on one base URL (node:http,
 * 127.0.0.1): `login` (authorize, post, desktop, token), `api` (`/rps/me`, usermap, `/rps/skypetoken`,
 * `/users/{identity}/profile/avatar`), `skype_login` (UIC [A]), `abch` (Sharing and AB SOAP services),
 * `activesync`, and the object service `ams` under `/ams` (PROFILE §7). Built from PROFILE.md and
 * REFERENCE.md only. Bad input gets a 4xx, a handler bug a 500 and a log line; nothing crashes.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ControlApi } from "../control.js";
import type { World } from "../world.js";
import type { HttpContext } from "./context.js";
import { registerControlRoutes } from "./control-routes.js";
import { HttpDispatcher } from "./dispatcher.js";
import { checkKnobs, defaultHttpOptions, type HttpServerOptions } from "./options.js";

export type { HttpServerOptions, HttpEndpoint, HttpLogger } from "./options.js";

/** Options that are not knobs: fixed when the server starts. */
const FIXED_OPTIONS = new Set(["port", "publicUrl", "logger"]);

/** A running HTTP side. */
export interface RunningHttpServer {
  /** `http://127.0.0.1:<port>`: the base of every endpoint (login, api, skype_login, abch, activesync). */
  url: string;
  /** The live options (knobs change them at run time). */
  options: HttpServerOptions;
  /** The public base URL (`publicUrl`, else `url`), without a trailing slash. */
  baseUrl(): string;
  /** Stops listening, drops open connections and pending delays. */
  close(): Promise<void>;
}

/**
 * Starts the HTTP side on 127.0.0.1 (`options.port`, default 0 = any free port). Registers its
 * `/http/...` routes on `control` when given (see control-routes.ts). Throws when an option is invalid.
 */
export async function startHttpServer(
  world: World,
  control?: ControlApi,
  options?: Partial<HttpServerOptions>,
): Promise<RunningHttpServer> {
  const opts: HttpServerOptions = { ...defaultHttpOptions(), ...options };
  const knobs = Object.fromEntries(Object.entries(options ?? {}).filter(([k]) => !FIXED_OPTIONS.has(k)));
  const problem = checkKnobs(knobs);
  if (problem) throw new Error(`startHttpServer: ${problem}`);
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)
    throw new Error("startHttpServer: bad port");
  if (opts.publicUrl !== null && !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(opts.publicUrl)) {
    throw new Error("startHttpServer: publicUrl must be an http(s) base URL");
  }

  let url = "";
  const ctx: HttpContext = {
    world,
    options: opts,
    baseUrl: () => (opts.publicUrl ?? url).replace(/\/+$/, ""),
  };
  const dispatcher = new HttpDispatcher(ctx);
  const server = createServer((req, res) => {
    dispatcher.handle(req, res).catch((e: unknown) => {
      opts.logger("error", "HTTP request crashed", { error: e instanceof Error ? e.name : "unknown" });
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (control) registerControlRoutes(control, world, opts, dispatcher.log);

  let closing: Promise<void> | undefined;
  return {
    url,
    options: opts,
    baseUrl: () => ctx.baseUrl(),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        dispatcher.wakeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
