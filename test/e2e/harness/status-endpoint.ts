// SPDX-License-Identifier: Apache-2.0
/** A stand-in for `homeserver.status_endpoint`: records every bridge state the bridge POSTs. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedState {
  authorization: string | undefined;
  body: Record<string, unknown>;
}

export class StatusEndpoint {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    /** Every state received, in order. */
    readonly received: ReceivedState[],
  ) {}

  static async start(): Promise<StatusEndpoint> {
    const received: ReceivedState[] = [];
    const server = createServer((req, res) => {
      let data = "";
      req.on("data", (c: Buffer) => (data += c.toString("utf8")));
      req.on("end", () => {
        try {
          received.push({
            authorization: req.headers.authorization,
            body: JSON.parse(data) as Record<string, unknown>,
          });
          res.writeHead(200, { "content-type": "application/json" }).end("{}");
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return new StatusEndpoint(server, `http://127.0.0.1:${port}/bridge_state`, received);
  }

  /** States received for `userId`, in order. */
  statesOf(userId: string): string[] {
    return this.received.filter((r) => r.body.user_id === userId).map((r) => String(r.body.state_event));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
