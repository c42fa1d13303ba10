// SPDX-License-Identifier: Apache-2.0
/**
 * A Skype contact signed in to the reference server with the project's own MSNP client, so the
 * benchmark sees the moment the server routes a message to them (the push reaches their
 * endpoint). Its tokens come from the control API's `/world/refresh-token`.
 */
import { performance } from "node:perf_hooks";
import { MsnpClient } from "../../src/skype/msnp/index.js";
import { parseHostPort } from "../../src/skype/model.js";
import { TokenManager, TokenScope } from "../../src/skype/tokens.js";
import type { BenchStack } from "./stack.js";

export interface ContactMessage {
  sender: string;
  body: string;
  at: number;
}

export class SkypeContact {
  private constructor(private readonly client: MsnpClient) {}

  static async signIn(stack: BenchStack, who: { email: string; skypename: string }): Promise<SkypeContact> {
    const { refreshToken } = await stack.control<{ refreshToken: string }>("/world/refresh-token", {
      user: who.email,
    });
    const endpoints = { ...stack.skype.endpoints, msnpTls: false };
    const tokens = new TokenManager({ endpoints, refreshToken });
    const { host, port } = parseHostPort(endpoints.msnp);
    const client = new MsnpClient({
      host,
      port,
      tls: false,
      credentials: {
        email: who.email,
        skypename: who.skypename,
        getTicket: () => tokens.getToken(TokenScope.Ath),
        getUic: async (nonce) => (await tokens.getUic(nonce)).uic,
      },
    });
    const contact = new SkypeContact(client);
    client.start();
    const deadline = Date.now() + 30_000;
    while (client.state.kind !== "connected") {
      if (Date.now() > deadline) throw new Error(`${who.email} could not sign in (${client.state.kind})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return contact;
  }

  /** Calls `fn` for every message pushed to this contact. */
  onMessage(fn: (m: ContactMessage) => void): void {
    this.client.on("message", (m) => fn({ sender: m.sender, body: m.body, at: performance.now() }));
  }

  async stop(): Promise<void> {
    await this.client.stop();
  }
}
