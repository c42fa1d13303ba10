// SPDX-License-Identifier: Apache-2.0
/**
 * The messaging half of the probe: connects the MSNP24 stream with a fresh sign-in, then either
 * sends a message and waits for the first message back from that contact (`--send`), or prints
 * every incoming event as a JSON line until stopped (`--listen`). Never prints a token.
 */
import type { LoginResult } from "./auth/login-process.js";
import { SkypeError, SkypeErrorCode } from "./errors.js";
import { silentLogger, type SkypeLogger } from "./log.js";
import { parseHostPort, type SkypeEndpoints } from "./model.js";
import { MsnpClient } from "./msnp/client.js";
import { sameMri } from "./msnp/identity.js";
import type { MsnpClientEvents, MsnpState } from "./msnp/types.js";
import { TokenManager, TokenScope } from "./tokens.js";

export interface MessagingProbeOptions {
  endpoints: SkypeEndpoints;
  login: LoginResult;
  /** Send `text` to `to`, then wait for the first message from `to`. */
  send?: { to: string; text: string };
  /** Seconds to wait for the connection and the reply (default 10). */
  waitSeconds?: number;
  /** Print every event until `signal` aborts. */
  listen?: boolean;
  /** Receives one JSON-serialisable object per output line. */
  out: (line: Record<string, unknown>) => void;
  signal?: AbortSignal;
  logger?: SkypeLogger;
}

const EVENTS: (keyof MsnpClientEvents)[] = [
  "message",
  "edit",
  "delete",
  "typing",
  "presence",
  "threadUpdate",
  "threadActivity",
  "unhandledMessage",
  "addressBookChanged",
];

function waitForState(client: MsnpClient, ms: number): Promise<MsnpState> {
  return new Promise((resolve) => {
    const done = (s: MsnpState): void => {
      clearTimeout(timer);
      client.off("state", onState);
      resolve(s);
    };
    const onState = (s: MsnpState): void => {
      if (s.kind === "connected" || s.kind === "bad_credentials" || s.kind === "logged_out") done(s);
    };
    const timer = setTimeout(() => done(client.state), ms);
    client.on("state", onState);
  });
}

/**
 * Runs the messaging probe. Resolves when done (reply received, or `signal` aborted when listening).
 * @throws SkypeError when the connection fails or no reply comes in time.
 */
export async function probeMessaging(opts: MessagingProbeOptions): Promise<void> {
  const waitMs = (opts.waitSeconds ?? 10) * 1000;
  const { host, port } = parseHostPort(opts.endpoints.msnp);
  const tokens = new TokenManager({ endpoints: opts.endpoints, refreshToken: opts.login.refreshToken });
  const client = new MsnpClient({
    host,
    port,
    tls: opts.endpoints.msnpTls,
    displayName: opts.login.profile.displayName,
    logger: opts.logger ?? silentLogger,
    credentials: {
      email: opts.login.email,
      skypename: opts.login.skypename,
      getTicket: () => tokens.getToken(TokenScope.Ath),
      getUic: async (nonce) => (await tokens.getUic(nonce)).uic,
    },
  });
  try {
    client.start();
    const state = client.state.kind === "connected" ? client.state : await waitForState(client, waitMs);
    if (state.kind !== "connected") {
      const why = "error" in state && state.error ? `: ${state.error.message}` : "";
      throw new SkypeError(
        SkypeErrorCode.NotConnected,
        `could not connect to the MSNP server (${state.kind}${why})`,
        true,
      );
    }
    if (opts.listen) {
      for (const name of EVENTS) {
        client.on(name, (payload?: unknown) =>
          opts.out({ event: name, ...(payload as Record<string, unknown>) }),
        );
      }
      await new Promise<void>((resolve) => {
        if (opts.signal?.aborted) return resolve();
        opts.signal?.addEventListener("abort", () => resolve(), { once: true });
      });
      return;
    }
    if (!opts.send) return;
    const { to, text } = opts.send;
    const reply = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new SkypeError(SkypeErrorCode.Network, `no message from ${to} within ${waitMs / 1000} s`, true),
          ),
        waitMs,
      );
      client.on("message", (m) => {
        if (m.fromMe || !(sameMri(m.sender, to) || sameMri(m.conversation, to))) return;
        clearTimeout(timer);
        resolve({ from: m.sender, text: m.body, messageId: m.messageId });
      });
    });
    const sent = client.sendText(to, text);
    await sent.delivered;
    opts.out(await reply);
  } finally {
    await client.stop();
  }
}
