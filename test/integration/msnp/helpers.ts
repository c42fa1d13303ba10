// Shared set-up for the MSNP client ↔ reference server integration tests.
import type { TestContext } from "node:test";
import type { EventEmitter } from "node:events";
import { World, SCOPES, type Person } from "../../../refserver/world.js";
import { MsnpServer, type MsnpServerOptions } from "../../../refserver/msnp/server.js";
import {
  MsnpClient,
  type MsnpClientEvents,
  type MsnpClientOptions,
  type MsnpState,
} from "../../../src/skype/msnp/index.js";
import type { SkypeLogger } from "../../../src/skype/log.js";

export const FIXTURES = "refserver/fixtures/default.yaml";

export interface Env {
  world: World;
  server: MsnpServer;
  port: number;
  client(email: string, opts?: Partial<MsnpClientOptions>): MsnpClient;
}

/** Starts a reference server on 127.0.0.1:0; everything is closed after the test. */
export async function startEnv(t: TestContext, options: Partial<MsnpServerOptions> = {}): Promise<Env> {
  const world = World.fromFile(FIXTURES);
  const server = new MsnpServer(world, options);
  const { port } = await server.listen(0, "127.0.0.1");
  const clients: MsnpClient[] = [];
  t.after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await server.close();
  });
  return {
    world,
    server,
    port,
    client(email, opts = {}) {
      const person = world.mustFind(email);
      const c = new MsnpClient({
        host: "127.0.0.1",
        port,
        credentials: credentialsFor(world, person),
        backoff: { initialMs: 20, maxMs: 200 },
        requestTimeoutMs: 10_000,
        ...opts,
      });
      clients.push(c);
      return c;
    },
  };
}

export function credentialsFor(world: World, p: Person) {
  return {
    email: p.email!,
    skypename: p.skypename!,
    getTicket: () => Promise.resolve(world.issueTokens(p, SCOPES.ath).access_token),
    getUic: (nonce: string) => Promise.resolve(world.issueUic(p, nonce)),
  };
}

/** Resolves with the first event of `name` matching `pred` (10 s limit). */
export function next<K extends keyof MsnpClientEvents>(
  c: MsnpClient,
  name: K,
  pred: (...args: MsnpClientEvents[K]) => boolean = () => true,
  ms = 10_000,
): Promise<MsnpClientEvents[K]> {
  const em = c as unknown as EventEmitter;
  return new Promise((resolve, reject) => {
    const on = (...args: MsnpClientEvents[K]): void => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      em.off(name, on as (...a: unknown[]) => void);
      resolve(args);
    };
    const timer = setTimeout(() => {
      em.off(name, on as (...a: unknown[]) => void);
      reject(new Error(`timed out waiting for ${String(name)}`));
    }, ms);
    em.on(name, on as (...a: unknown[]) => void);
  });
}

/** Waits for a state of this kind (now or later). */
export async function stateOf<K extends MsnpState["kind"]>(
  c: MsnpClient,
  kind: K,
  ms = 10_000,
): Promise<Extract<MsnpState, { kind: K }>> {
  if (c.state.kind === kind) return c.state as Extract<MsnpState, { kind: K }>;
  const [s] = await next(c, "state", (s) => s.kind === kind, ms);
  return s as Extract<MsnpState, { kind: K }>;
}

/** Starts a client and waits until it has caught up (fully online). */
export async function online(c: MsnpClient): Promise<void> {
  const caught = next(c, "caughtUp");
  c.start();
  await caught;
}

/** Polls `cond` until true (10 s limit); for conditions that have no event. */
export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A logger that keeps every line. */
export function memoryLogger(): SkypeLogger & {
  lines: { level: string; message: string; context?: Record<string, unknown> }[];
} {
  const lines: { level: string; message: string; context?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, context?: Record<string, unknown>) => {
    lines.push({ level, message, context });
  };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
