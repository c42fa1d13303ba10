// SPDX-License-Identifier: Apache-2.0
/**
 * The reference server's HTTP side: every HTTP endpoint of PROFILE §1 on one base URL (node:http,
 * 127.0.0.1): `login` (authorize, post, desktop, token), `api` (`/rps/me`, usermap), `skype_login`
 * (UIC [A]), `abch` (Sharing and AB SOAP services) and `activesync`. Built from PROFILE.md and
 * REFERENCE.md only. Bad input gets a 4xx, a handler bug a 500 and a log line; nothing crashes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ControlApi } from "../control.js";
import type { World } from "../world.js";
import { abchRoutes } from "./abch.js";
import { activesyncRoute } from "./activesync.js";
import { apiRoutes, uicRoute } from "./api.js";
import type { HttpContext, HttpRequest, Route } from "./context.js";
import { registerControlRoutes } from "./control-routes.js";
import { HttpFail, readBody, textReply, type Reply } from "./http-util.js";
import { loginRoutes } from "./login.js";
import { checkKnobs, defaultHttpOptions, type HttpServerOptions } from "./options.js";
import { RequestLog, type RequestLogEntry } from "./request-log.js";

export type { HttpServerOptions, HttpEndpoint, HttpLogger } from "./options.js";

/** Options that are not knobs: fixed when the server starts. */
const FIXED_OPTIONS = new Set(["port", "publicUrl", "logger"]);

/** A running HTTP side. */
export interface RunningHttpServer {
  /** `http://127.0.0.1:<port>`: the base of every endpoint (login, api, skype_login, abch, activesync). */
  url: string;
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
): Promise<{ url: string; close(): Promise<void> }> {
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
  const routes = new Map<string, Route>();
  for (const group of [loginRoutes(ctx), apiRoutes(ctx), abchRoutes(ctx)]) {
    for (const [path, route] of group) routes.set(path.toLowerCase(), route);
  }
  routes.set("/microsoft-server-activesync", activesyncRoute(ctx));
  const uic = uicRoute(ctx);
  const log = new RequestLog(() => opts.requestLogSize);
  const delays = new Map<NodeJS.Timeout, () => void>();

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        delays.delete(t);
        resolve();
      }, ms);
      delays.set(t, resolve);
    });

  const find = (path: string): Route | undefined => {
    const p = path.toLowerCase();
    return p === opts.uicPath.toLowerCase() ? uic : routes.get(p);
  };

  const serve = async (
    req: IncomingMessage,
    entry: RequestLogEntry,
    url: URL,
    route: Route,
  ): Promise<Reply> => {
    if (!route.methods.includes(req.method ?? "")) {
      req.resume();
      return { ...textReply(405, "method not allowed"), headers: { allow: route.methods.join(", ") } };
    }
    const body = await readBody(req, opts.maxBodyBytes);
    if (!body) return textReply(413, "request body too large");
    const failures = opts.failNext[route.endpoint] ?? 0;
    if (failures > 0) {
      opts.failNext = { ...opts.failNext, [route.endpoint]: failures - 1 };
      log.note(entry, { injectedFailure: true });
      return textReply(opts.failStatus, "injected failure");
    }
    const rq: HttpRequest = {
      method: req.method ?? "GET",
      url,
      headers: req.headers,
      body,
      note: (d) => log.note(entry, d),
    };
    return await route.handler(rq);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://127.0.0.1");
    } catch {
      url = new URL("http://127.0.0.1/");
    }
    const route = find(url.pathname);
    const entry = log.begin(
      req.method ?? "",
      url.pathname,
      req.headers.host ?? "",
      route?.endpoint ?? "unknown",
    );
    let reply: Reply;
    try {
      if (!route) {
        req.resume();
        reply = textReply(404, "not found");
      } else {
        reply = await serve(req, entry, url, route);
        const wait = opts.delayMs + (opts.delays[route.endpoint] ?? 0);
        if (wait > 0) await sleep(wait);
      }
    } catch (e) {
      if (e instanceof HttpFail) reply = e.reply ?? textReply(e.status, e.message);
      else {
        opts.logger("error", "HTTP handler failed", {
          path: url.pathname,
          error: e instanceof Error ? e.name : "unknown",
        });
        reply = textReply(500, "internal server error");
      }
    }
    entry.status = reply.status;
    opts.logger("info", `${req.method} ${url.pathname} -> ${reply.status}`, { endpoint: entry.endpoint });
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(reply.status, reply.headers ?? {});
    res.end(reply.body ?? "");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
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
  if (control) registerControlRoutes(control, world, opts, log);

  let closing: Promise<void> | undefined;
  return {
    url,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const [t, wake] of delays) {
          clearTimeout(t);
          wake();
        }
        delays.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
