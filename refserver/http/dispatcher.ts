// SPDX-License-Identifier: Apache-2.0
/**
 * Request dispatch of the reference server's HTTP side: finds the route (paths are
 * case-insensitive, as on IIS), checks the method, reads the body within the size limit, applies the
 * failure-injection and delay knobs, runs the handler, logs the request (without secrets) and
 * writes the reply. A handler bug becomes a 500 and a log line, never a crash.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { abchRoutes } from "./abch.js";
import { activesyncRoute } from "./activesync.js";
import { amsRoutes } from "./ams.js";
import { apiRoutes, uicRoute } from "./api.js";
import { avatarRoutes } from "./avatar.js";
import type { HttpContext, HttpRequest, PatternRoute, Route } from "./context.js";
import { HttpFail, readBody, textReply, type Reply } from "./http-util.js";
import { loginRoutes } from "./login.js";
import { RequestLog, type RequestLogEntry } from "./request-log.js";
import { skypetokenRoutes } from "./skypetoken.js";

export class HttpDispatcher {
  /** Recent requests, for the control API. */
  readonly log: RequestLog;
  private readonly routes = new Map<string, Route>();
  private readonly patterns: PatternRoute[];
  private readonly uic: Route;
  private readonly delays = new Map<NodeJS.Timeout, () => void>();

  constructor(private readonly ctx: HttpContext) {
    for (const group of [loginRoutes(ctx), apiRoutes(ctx), abchRoutes(ctx), skypetokenRoutes(ctx)]) {
      for (const [path, route] of group) this.routes.set(path.toLowerCase(), route);
    }
    this.routes.set("/microsoft-server-activesync", activesyncRoute(ctx));
    this.uic = uicRoute(ctx);
    this.patterns = [...amsRoutes(ctx), ...avatarRoutes(ctx)];
    this.log = new RequestLog(() => ctx.options.requestLogSize);
  }

  /** Ends every pending delay at once (on close). */
  wakeAll(): void {
    for (const [t, wake] of this.delays) {
      clearTimeout(t);
      wake();
    }
    this.delays.clear();
  }

  /** Serves one request; never rejects for a handler's sake. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const opts = this.ctx.options;
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://127.0.0.1");
    } catch {
      url = new URL("http://127.0.0.1/");
    }
    const found = this.find(url.pathname);
    const route = found?.route;
    const host = req.headers.host ?? "";
    const entry = this.log.begin(req.method ?? "", url.pathname, host, route?.endpoint ?? "unknown");
    let reply: Reply;
    try {
      if (!route) {
        req.resume();
        reply = textReply(404, "not found");
      } else {
        reply = await this.serve(req, entry, url, route, found.params);
        const wait = opts.delayMs + (opts.delays[route.endpoint] ?? 0);
        if (wait > 0) await this.sleep(wait);
      }
    } catch (e) {
      if (e instanceof HttpFail) reply = e.reply ?? textReply(e.status, e.message);
      else {
        const error = e instanceof Error ? e.name : "unknown";
        opts.logger("error", "HTTP handler failed", { path: url.pathname, error });
        reply = textReply(500, "internal server error");
      }
    }
    entry.status = reply.status;
    opts.logger("info", `${req.method} ${url.pathname} -> ${reply.status}`, { endpoint: entry.endpoint });
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(reply.status, reply.headers ?? {});
    res.end(reply.body ?? "");
  }

  private find(path: string): { route: Route; params: string[] } | undefined {
    const p = path.toLowerCase();
    if (p === this.ctx.options.uicPath.toLowerCase()) return { route: this.uic, params: [] };
    const fixed = this.routes.get(p);
    if (fixed) return { route: fixed, params: [] };
    for (const { pattern, route } of this.patterns) {
      const m = pattern.exec(path);
      if (!m) continue;
      try {
        return { route, params: m.slice(1).map((g) => decodeURIComponent(g ?? "")) };
      } catch {
        return undefined; // a malformed percent-encoding names nothing we serve
      }
    }
    return undefined;
  }

  private async serve(
    req: IncomingMessage,
    entry: RequestLogEntry,
    url: URL,
    route: Route,
    params: string[],
  ): Promise<Reply> {
    const opts = this.ctx.options;
    if (!route.methods.includes(req.method ?? "")) {
      req.resume();
      return { ...textReply(405, "method not allowed"), headers: { allow: route.methods.join(", ") } };
    }
    const request = (body: Buffer): HttpRequest => ({
      method: req.method ?? "GET",
      url,
      headers: req.headers,
      body,
      params,
      note: (d) => this.log.note(entry, d),
    });
    const early = route.beforeBody?.(request(Buffer.alloc(0)));
    if (early) {
      req.resume();
      return early;
    }
    const body = await readBody(req, route.bodyLimit?.() ?? opts.maxBodyBytes);
    if (!body) return textReply(413, "request body too large");
    const failures = opts.failNext[route.endpoint] ?? 0;
    if (failures > 0) {
      opts.failNext = { ...opts.failNext, [route.endpoint]: failures - 1 };
      this.log.note(entry, { injectedFailure: true });
      return textReply(opts.failStatus, "injected failure");
    }
    return await route.handler(request(body));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.delays.delete(t);
        resolve();
      }, ms);
      this.delays.set(t, resolve);
    });
  }
}
