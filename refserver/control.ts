// SPDX-License-Identifier: Apache-2.0
/**
 * The reference server's control API: plain JSON over HTTP, bound to loopback only, for tests and
 * the demo to drive the fake world (make a contact send, expire tokens, read what the server got).
 * Each side of the server registers its own routes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type ControlHandler = (body: Record<string, unknown>, query: URLSearchParams) => unknown;

export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A required, non-blank string field of a control request's body (else 400). */
export function requiredString(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== "string" || !v.trim()) throw new ControlError(400, `${name} must be a non-empty string`);
  return v;
}

/** An optional string field of a control request's body (absent or null: undefined; else 400). */
export function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new ControlError(400, `${name} must be a string`);
  return v;
}

export class ControlApi {
  private readonly routes = new Map<string, ControlHandler>();
  private server?: Server;

  /** Registers `METHOD /path`; the handler's return value (or promise) is sent as JSON. */
  route(method: "GET" | "POST", path: string, handler: ControlHandler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  async listen(port = 0, host = "127.0.0.1"): Promise<string> {
    if (host !== "127.0.0.1" && host !== "localhost" && host !== "::1") {
      throw new Error("the control API listens on loopback only");
    }
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    const addr = server.address() as AddressInfo;
    return `http://127.0.0.1:${addr.port}`;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const handler = this.routes.get(`${req.method} ${url.pathname}`);
    const send = (status: number, value: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value ?? {}));
    };
    if (!handler) return send(404, { error: `no control route ${req.method} ${url.pathname}` });
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString("utf8");
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      send(200, await handler(body, url.searchParams));
    } catch (e) {
      const status = e instanceof ControlError ? e.status : e instanceof SyntaxError ? 400 : 500;
      send(status, { error: e instanceof Error ? e.message : String(e) });
    }
  }
}
