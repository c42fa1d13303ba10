// Shared set-up of the session-layer tests: the reference server in-process, a real SQLite store on a
// temp file with a random key, an undici Agent, captured log lines, and session managers; all of it
// is closed when the test ends.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { Agent } from "undici";
import {
  startReferenceServer,
  type ReferenceServerOptions,
  type RunningReferenceServer,
} from "../../../refserver/index.js";
import type { Config } from "../../../src/config/schema.js";
import { SkypeSessionManager, type SessionManagerOptions } from "../../../src/sessions/session-manager.js";
import type { Session, SessionEvents, SessionState } from "../../../src/sessions/types.js";
import { loginWithPassword, type LoginResult } from "../../../src/skype/auth/login-process.js";
import { openStore, type Store } from "../../../src/store/index.js";
import { configureLogging, setLogWriter } from "../../../src/util/logger.js";

export interface IssuedRefresh {
  person: string;
  scope: string;
  refreshToken: string;
  accessToken: string;
}

export interface SessionEnv {
  ref: RunningReferenceServer;
  dbPath: string;
  key: string;
  store: Store;
  config: Config;
  agent: Agent;
  /** Every log line written through the bridge's logger during the test. */
  logLines: string[];
  /** Every token pair the reference server issued, in order. */
  issued: IssuedRefresh[];
  /** Every UIC the reference server issued. */
  uics: string[];
  manager(opts?: Partial<SessionManagerOptions>): SkypeSessionManager;
  login(email: string, password: string): Promise<LoginResult>;
  /** Closes the store and opens the same file again (a bridge restart). */
  reopenStore(): Store;
  /** The database file and its WAL, as raw bytes. */
  dbBytes(): Buffer;
}

/** Backoff and timeouts small enough for tests. */
export const FAST_MSNP = { backoff: { initialMs: 20, maxMs: 200 }, requestTimeoutMs: 10_000 };

export async function startSessionEnv(
  t: TestContext,
  opts: { ref?: ReferenceServerOptions; config?: (c: Config) => void } = {},
): Promise<SessionEnv> {
  const dir = mkdtempSync(join(tmpdir(), "skype-sessions-"));
  const dbPath = join(dir, "bridge.db");
  const key = randomBytes(32).toString("hex");
  const ref = await startReferenceServer(opts.ref);
  const issued: IssuedRefresh[] = [];
  const issue = ref.world.issueTokens.bind(ref.world);
  ref.world.issueTokens = (p, scope) => {
    const t = issue(p, scope);
    issued.push({ person: p.key, scope, refreshToken: t.refresh_token, accessToken: t.access_token });
    return t;
  };
  const uics: string[] = [];
  const issueUic = ref.world.issueUic.bind(ref.world);
  ref.world.issueUic = (p, nonce) => {
    const uic = issueUic(p, nonce);
    uics.push(uic);
    return uic;
  };
  const agent = new Agent({ connections: 16 });
  const logLines: string[] = [];
  configureLogging({ level: "debug" });
  const restoreLog = setLogWriter((line) => logLines.push(line));
  const managers: SkypeSessionManager[] = [];
  const config: Config = {
    homeserver: { url: "http://127.0.0.1:9", domain: "example.org" },
    appservice: {
      bind_address: "127.0.0.1",
      port: 0,
      id: "skype",
      bot_localpart: "skypebot",
      bot_display_name: "Skype bridge bot",
      url: "http://127.0.0.1:9",
    },
    puppets: { localpart_template: "skype_{id}", display_name_template: "{name} (Skype)", presence: true },
    database: { path: dbPath, cache_mib: 4 },
    secrets: { token_key: key },
    skype: { endpoints: { ...ref.endpoints }, msnp_tls: false },
    permissions: { "*": "user" },
    encryption: { enabled: false, default: false, require: false },
    logging: { level: "debug", format: "text", modules: {} },
    metrics: { enabled: false, bind_address: "127.0.0.1" },
    limits: { session_start_concurrency: 4, reconnect_concurrency: 32 },
    history: { conversations: 0, messages: 50 },
    double_puppet: { secrets: {} },
  };
  opts.config?.(config);
  const env: SessionEnv = {
    ref,
    dbPath,
    key,
    store: openStore({ path: dbPath, key }),
    config,
    agent,
    logLines,
    issued,
    uics,
    manager(extra = {}) {
      const m = new SkypeSessionManager({
        config,
        store: env.store,
        dispatcher: agent,
        msnp: FAST_MSNP,
        contactRefresh: { retryInitialMs: 50, retryMaxMs: 500 },
        ...extra,
      });
      managers.push(m);
      return m;
    },
    login(email, password) {
      return loginWithPassword(ref.endpoints, email, password, { dispatcher: agent });
    },
    reopenStore() {
      env.store.close();
      env.store = openStore({ path: dbPath, key });
      return env.store;
    },
    dbBytes() {
      const parts = [readFileSync(dbPath)];
      if (existsSync(`${dbPath}-wal`)) parts.push(readFileSync(`${dbPath}-wal`));
      return Buffer.concat(parts);
    },
  };
  t.after(async () => {
    await Promise.all(managers.map((m) => m.stopAll()));
    assertNoSecretsLogged(env);
    await ref.close();
    await agent.close();
    env.store.close();
    restoreLog();
    configureLogging({ level: "info" });
    rmSync(dir, { recursive: true, force: true });
  });
  return env;
}

/** Records every state a manager's sessions emit, per mxid. */
export function recordStates(manager: SkypeSessionManager): Map<string, SessionState[]> {
  const states = new Map<string, SessionState[]>();
  manager.onSession((s) => {
    const list: SessionState[] = [];
    states.set(s.mxid, list);
    s.on("state", (st) => list.push(st));
  });
  return states;
}

/** The kinds of the states recorded for `mxid`. */
export function kinds(states: Map<string, SessionState[]>, mxid: string): string[] {
  return (states.get(mxid) ?? []).map((s) => s.kind);
}

/** Resolves with the first `name` event of `session` matching `pred` (15 s limit). */
export function nextEvent<K extends keyof SessionEvents>(
  session: Session,
  name: K,
  pred: (...args: SessionEvents[K]) => boolean = () => true,
  ms = 15_000,
): Promise<SessionEvents[K]> {
  const em = session as unknown as {
    on(e: string, f: (...a: unknown[]) => void): void;
    off(e: string, f: (...a: unknown[]) => void): void;
  };
  return new Promise((resolve, reject) => {
    const on = (...args: unknown[]): void => {
      if (!pred(...(args as SessionEvents[K]))) return;
      clearTimeout(timer);
      em.off(name, on);
      resolve(args as SessionEvents[K]);
    };
    const timer = setTimeout(() => {
      em.off(name, on);
      reject(new Error(`timed out waiting for ${String(name)} of ${session.mxid}`));
    }, ms);
    em.on(name, on);
  });
}

/** Waits until the session is in a state of `kind` (now or later). */
export async function stateOf(session: Session, kind: SessionState["kind"], ms = 15_000): Promise<void> {
  if (session.state.kind === kind) return;
  await nextEvent(session, "state", (s) => s.kind === kind, ms);
}

/** Polls `cond` until true (15 s limit), for conditions no event announces. */
export async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The reference server's open connections of `user` (e-mail). */
export function endpointsOf(
  env: SessionEnv,
  user: string,
): ReturnType<SessionEnv["ref"]["msnp"]["endpoints"]> {
  return env.ref.msnp.endpoints().filter((e) => e.user === user);
}

/** True once `user` (e-mail) has a connection that receives message pushes. */
export function subscribed(env: SessionEnv, user: string): boolean {
  return endpointsOf(env, user).some((e) => e.ready && e.subscriptions.im);
}

/** Fixture passwords: none may ever reach a log line. */
const PASSWORDS = ["wonderland", "canwefixit"];

/** Fails when any issued token or a fixture password appears in a log line. */
export function assertNoSecretsLogged(env: SessionEnv): void {
  const secrets = [...PASSWORDS, ...env.uics, ...env.issued.flatMap((i) => [i.refreshToken, i.accessToken])];
  for (const line of env.logLines) {
    for (const s of secrets) if (line.includes(s)) throw new Error(`a secret reached the log: ${line}`);
  }
}
