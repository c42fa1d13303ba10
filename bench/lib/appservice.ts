// SPDX-License-Identifier: Apache-2.0
/**
 * The minimal appservice of the baselines: an HTTP listener on 127.0.0.1 that takes Synapse's
 * transactions (checking the hs_token, answering `{}` at once) and stamps each event's arrival, and
 * a sender that posts events as its own bot with the as_token. No store, no queue, no library:
 * what is left of an appservice once the bridge's work is taken out.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import yaml from "js-yaml";
import { MatrixUser } from "./matrix.js";

export interface AsEvent {
  roomId: string;
  type: string;
  sender: string;
  content: Record<string, unknown>;
  at: number;
}

export class MiniAppservice {
  readonly asToken = randomBytes(24).toString("hex");
  readonly hsToken = randomBytes(24).toString("hex");
  readonly localpart = "benchas";
  private server?: Server;
  private readonly listeners: Array<(e: AsEvent) => void> = [];
  port = 0;
  transactions = 0;

  /** Listens on a free loopback port. */
  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const at = performance.now();
        const send = (status: number, body: unknown): void => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(body));
        };
        if (req.headers.authorization !== `Bearer ${this.hsToken}`)
          return send(403, { errcode: "M_FORBIDDEN" });
        const path = (req.url ?? "").split("?")[0] ?? "";
        if (req.method === "PUT" && path.startsWith("/_matrix/app/v1/transactions/")) {
          this.transactions++;
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as {
            events?: Array<Record<string, unknown>>;
          };
          send(200, {});
          for (const ev of body.events ?? []) {
            const e: AsEvent = {
              roomId: String(ev.room_id),
              type: String(ev.type),
              sender: String(ev.sender),
              content: (ev.content ?? {}) as Record<string, unknown>,
              at,
            };
            for (const l of this.listeners) l(e);
          }
          return;
        }
        if (path === "/_matrix/app/v1/ping") return send(200, {});
        send(404, { errcode: "M_NOT_FOUND" });
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  /** Writes its registration file for Synapse's app_service_config_files. */
  writeRegistration(path: string): void {
    writeFileSync(
      path,
      yaml.dump({
        id: "bench-minimal-as",
        url: `http://127.0.0.1:${this.port}`,
        as_token: this.asToken,
        hs_token: this.hsToken,
        sender_localpart: this.localpart,
        rate_limited: false,
        namespaces: {
          users: [{ exclusive: true, regex: `@${this.localpart}.*` }],
          aliases: [],
          rooms: [],
        },
      }),
    );
  }

  onEvent(fn: (e: AsEvent) => void): void {
    this.listeners.push(fn);
  }

  /** The appservice's own bot as a client (acts with the as_token). */
  bot(homeserver: string, domain: string): MatrixUser {
    return new MatrixUser(homeserver, `@${this.localpart}:${domain}`, this.asToken, true);
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
