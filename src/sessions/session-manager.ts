// SPDX-License-Identifier: Apache-2.0
/**
 * Owns one SkypeSession per linked Matrix user: starts them all at boot with bounded concurrency
 * (one failing never affects the others), links and unlinks accounts, and stops everything cleanly
 * within a bounded time at shutdown.
 */
import { randomUUID } from "node:crypto";
import type { Dispatcher } from "undici";
import type { Config } from "../config/schema.js";
import type { LoginResult } from "../skype/auth/login-process.js";
import { SkypeError, SkypeErrorCode } from "../skype/errors.js";
import { msaMri, skypeMri, sortIdentities } from "../skype/model.js";
import type { MsnpClientOptions } from "../skype/msnp/types.js";
import { StoreError, StoreErrorCode } from "../store/errors.js";
import type { Store, UserRow } from "../store/types.js";
import { ConcurrencyLimit, KeyedQueue } from "../util/keyed-queue.js";
import { errorText, Logger } from "../util/logger.js";
import type { ContactRefreshOptions } from "./contact-refresh.js";
import { SkypeSession, type SessionAccount } from "./session.js";
import type { TokenStoreOptions } from "./token-store.js";
import type { Session, SessionManager } from "./types.js";

/** Options of {@link SkypeSessionManager}. */
export interface SessionManagerOptions {
  config: Config;
  store: Store;
  logger?: Logger;
  /** undici dispatcher for every HTTP call of every session (tests, proxies). */
  dispatcher?: Dispatcher;
  /** Overrides of every session's MSNP client options (tests: backoff, transport, timeouts). */
  msnp?: Partial<MsnpClientOptions>;
  /** Retry timing of contact refreshes (tests). */
  contactRefresh?: Omit<ContactRefreshOptions, "intervalMs">;
  /** Retries of storing rotated refresh tokens (tests). */
  tokenStore?: TokenStoreOptions;
  /** Contact re-reads after reconnects running at once across the bridge (tests). Default 2. */
  reconnectRefreshConcurrency?: number;
  /** Longest wait for one session's first connection attempt before starting the next. Default 60 s. */
  startTimeoutMs?: number;
  /** Longest wait for all sessions to sign out in stopAll(). Default 5 s. */
  stopTimeoutMs?: number;
}

/** `meta` key holding a user's display name from the last sign-in (the profile is not re-read). */
const displayNameKey = (mxid: string): string => `sessions.display_name|${mxid}`;

/** Resolves after `ms` or when `p` settles, whichever is first; never rejects. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  try {
    await Promise.race([
      p.then(
        () => undefined,
        () => undefined,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Contact re-reads after reconnects running at once across the bridge. Two drained the backlog of a
 * 10,000-account outage at ~220–260 a second once the reconnections were done, and held a small
 * share of the thread while they were not (BENCHMARKS.md, cause 11).
 */
const RECONNECT_REFRESH_CONCURRENCY = 2;

/** The session manager. Wire it as `BridgeContext.sessions`. */
export class SkypeSessionManager implements SessionManager {
  private readonly sessions = new Map<string, SkypeSession>();
  private readonly listeners: ((session: Session) => void)[] = [];
  private readonly log: Logger;
  private readonly perUser: KeyedQueue;
  /**
   * Bridge-wide slots for reconnects (`limits.reconnect_concurrency`): when the server drops every
   * connection at once, every client's first retry is due within the same second.
   */
  private readonly reconnectSlots: ConcurrencyLimit;
  /**
   * Bridge-wide slots for the contact re-read each session makes after a reconnect: after an outage
   * they wait their turn rather than compete with the reconnections (a third of a reconnect's CPU;
   * BENCHMARKS.md, cause 11).
   */
  private readonly reconnectRefreshSlots: ConcurrencyLimit;
  private shuttingDown = false;

  constructor(private readonly opts: SessionManagerOptions) {
    this.log = opts.logger ?? new Logger("sessions");
    this.reconnectSlots = new ConcurrencyLimit(Math.max(1, opts.config.limits.reconnect_concurrency));
    this.reconnectRefreshSlots = new ConcurrencyLimit(
      opts.reconnectRefreshConcurrency ?? RECONNECT_REFRESH_CONCURRENCY,
    );
    this.perUser = new KeyedQueue((mxid, e) =>
      this.log.error("a session task failed", { user: mxid, error: errorText(e) }),
    );
  }

  get(mxid: string): Session | undefined {
    return this.sessions.get(mxid);
  }

  all(): Session[] {
    return [...this.sessions.values()];
  }

  onSession(listener: (session: Session) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Starts a session for every user with a stored refresh token, at most
   * `limits.session_start_concurrency` connecting at once. Never throws.
   */
  async startAll(): Promise<void> {
    let users: UserRow[];
    try {
      users = this.opts.store.users.list().filter((u) => u.hasRefreshToken);
    } catch (e) {
      this.log.error("cannot list linked users", { error: errorText(e) });
      return;
    }
    const queue: SkypeSession[] = [];
    for (const user of users) {
      if (this.sessions.has(user.mxid) || this.shuttingDown) continue;
      const session = this.createFromStore(user);
      if (session) queue.push(session);
    }
    this.log.info("starting sessions", { count: queue.length });
    const limit = Math.max(1, this.opts.config.limits.session_start_concurrency);
    const startTimeout = this.opts.startTimeoutMs ?? 60_000;
    const worker = async (): Promise<void> => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        if (this.shuttingDown) return;
        if (this.sessions.get(s.mxid) !== s) continue; // replaced by a link meanwhile
        await within(s.start(), startTimeout);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker));
  }

  /** A session for a stored user, registered and announced; undefined (logged) when unusable. */
  private createFromStore(user: UserRow): SkypeSession | undefined {
    const { mxid } = user;
    try {
      const refreshToken = this.opts.store.users.getRefreshToken(mxid);
      if (!refreshToken || !user.accountEmail || !user.skypeName) {
        this.log.warn("a linked user lacks its account details; not starting", { user: mxid });
        return undefined;
      }
      const epid = user.epid ?? this.newEpid(mxid);
      const account: SessionAccount = {
        email: user.accountEmail,
        skypename: user.skypeName,
        identities: this.identitiesOf(user.accountEmail, user.skypeName, user.liveMri, user.skypeMri),
        displayName: this.opts.store.meta.get(displayNameKey(mxid)) ?? user.skypeName,
        epid,
      };
      return this.register(this.build(mxid, account, refreshToken));
    } catch (e) {
      this.log.error("cannot start the session of a linked user", { user: mxid, error: errorText(e) });
      this.markFailed(mxid, e);
      return undefined;
    }
  }

  /**
   * Links `mxid` to the signed-in account: stores the account, the refresh token (encrypted) and the
   * display name, replaces a running session cleanly, announces and starts the new one (it connects
   * in the background). @throws StoreError when the store refuses; SkypeError while shutting down.
   */
  link(mxid: string, login: LoginResult): Promise<Session> {
    return this.serially(mxid, async () => {
      if (this.shuttingDown) {
        throw new SkypeError(SkypeErrorCode.NotConnected, "the bridge is shutting down", false);
      }
      const previous = this.sessions.get(mxid);
      await previous?.stop();
      this.sessions.delete(mxid);
      let account: SessionAccount;
      let firstLink: boolean;
      try {
        ({ account, firstLink } = this.saveLink(mxid, login));
      } catch (e) {
        if (previous) this.restore(mxid);
        throw e;
      }
      // Only a first link of this account reads back history (config `history`); a re-link of the
      // same account catches up from its cursors as a restart does.
      const history = firstLink ? this.opts.config.history : undefined;
      const session = this.register(this.build(mxid, account, login.refreshToken, history));
      void session.start();
      return session;
    });
  }

  /** After a failed re-link nothing was written (one transaction): restart the previous link. */
  private restore(mxid: string): void {
    try {
      const row = this.opts.store.users.get(mxid);
      const session = row?.hasRefreshToken ? this.createFromStore(row) : undefined;
      if (session) void session.start();
    } catch (e) {
      this.log.error("cannot restart the previous session", { user: mxid, error: errorText(e) });
    }
  }

  /**
   * Writes the link to the store in one transaction; returns the session's account, and whether the
   * user had no link to this Skype account before.
   */
  private saveLink(mxid: string, login: LoginResult): { account: SessionAccount; firstLink: boolean } {
    const { store } = this.opts;
    const liveMri = login.identities.msa ?? msaMri(login.email);
    const ownSkypeMri = login.identities.skype ?? skypeMri(login.skypename);
    return store.transaction(() => {
      const prev = store.users.get(mxid);
      const epid = prev?.epid ?? randomUUID();
      const sameAccount = prev?.skypeMri === ownSkypeMri;
      store.users.upsert(mxid, {
        accountEmail: login.email,
        skypeName: login.skypename,
        liveMri,
        skypeMri: ownSkypeMri,
        epid,
        loginState: "connecting",
        stateDetail: null,
        ...(sameAccount ? {} : { contactSyncState: null }),
      });
      store.users.setRefreshToken(mxid, login.refreshToken);
      store.meta.set(displayNameKey(mxid), login.profile.displayName || login.skypename);
      const account = {
        email: login.email,
        skypename: login.skypename,
        identities: sortIdentities([liveMri, ownSkypeMri]),
        displayName: login.profile.displayName || login.skypename,
        epid,
      };
      return { account, firstLink: !sameAccount };
    });
  }

  /**
   * Stops the session (clean `OUT`, state `logged_out` reason `logout`), forgets the refresh token,
   * the account and its sync state. The user row stays (it holds the management room).
   */
  unlink(mxid: string): Promise<void> {
    return this.serially(mxid, async () => {
      const session = this.sessions.get(mxid);
      this.sessions.delete(mxid);
      await session?.stop({ reason: "logout", persist: true });
      const { store } = this.opts;
      store.transaction(() => {
        if (!store.users.get(mxid)) return;
        store.users.setRefreshToken(mxid, null);
        store.users.upsert(mxid, {
          accountEmail: null,
          skypeName: null,
          liveMri: null,
          skypeMri: null,
          loginState: "logged_out",
          stateDetail: "logout",
          contactSyncState: null,
        });
        store.meta.delete(displayNameKey(mxid));
      });
      this.log.info("account unlinked", { user: mxid });
    });
  }

  /**
   * Replaces the user's session with a new one built from the store (the stored refresh token, so
   * a session halted by a refused sign-in gets a fresh try). The old one signs out first. Never throws.
   */
  async reconnect(mxid: string): Promise<Session | undefined> {
    try {
      return await this.serially(mxid, async () => {
        if (this.shuttingDown) return undefined;
        const row = this.opts.store.users.get(mxid);
        if (!row?.hasRefreshToken) return undefined;
        const previous = this.sessions.get(mxid);
        this.sessions.delete(mxid);
        await previous?.stop();
        const session = this.createFromStore(row);
        if (session) void session.start();
        return session;
      });
    } catch (e) {
      this.log.error("reconnecting a session failed", { user: mxid, error: errorText(e) });
      return undefined;
    }
  }

  /** Stops every session cleanly (`OUT`), waiting at most `stopTimeoutMs`. Never throws. */
  async stopAll(): Promise<void> {
    this.shuttingDown = true;
    const all = [...this.sessions.values()];
    this.sessions.clear();
    const stopped = all.map((s) => s.stop({ reason: "shutdown" }));
    await within(Promise.all(stopped), this.opts.stopTimeoutMs ?? 5000);
    this.log.info("sessions stopped", { count: all.length });
  }

  // ---- helpers ----

  private build(
    mxid: string,
    account: SessionAccount,
    refreshToken: string,
    initialHistory?: { conversations: number; messages: number },
  ): SkypeSession {
    return new SkypeSession({
      initialHistory,
      mxid,
      config: this.opts.config,
      store: this.opts.store,
      account,
      refreshToken,
      logger: this.log.child({ user: mxid }),
      dispatcher: this.opts.dispatcher,
      msnp: { reconnectGate: () => this.reconnectSlots.acquire(), ...this.opts.msnp },
      reconnectRefreshGate: () => this.reconnectRefreshSlots.acquire(),
      contactRefresh: this.opts.contactRefresh,
      tokenStore: this.opts.tokenStore,
    });
  }

  /** Registers the session and tells the listeners (before it starts). */
  private register(session: SkypeSession): SkypeSession {
    this.sessions.set(session.mxid, session);
    for (const listener of this.listeners) {
      try {
        listener(session);
      } catch (e) {
        this.log.error("an onSession listener threw", { user: session.mxid, error: errorText(e) });
      }
    }
    return session;
  }

  private identitiesOf(
    email: string,
    skypename: string,
    live: string | null,
    skype: string | null,
  ): string[] {
    return sortIdentities([live ?? msaMri(email), skype ?? skypeMri(skypename)]);
  }

  private newEpid(mxid: string): string {
    const epid = randomUUID();
    this.opts.store.users.upsert(mxid, { epid });
    return epid;
  }

  /** Records that a stored sign-in is unreadable (damaged token): the user must log in again. */
  private markFailed(mxid: string, e: unknown): void {
    if (!(e instanceof StoreError && e.code === StoreErrorCode.Corrupt)) return;
    try {
      this.opts.store.users.upsert(mxid, { loginState: "bad_credentials", stateDetail: e.code });
    } catch (err) {
      this.log.error("cannot record the failed start", { user: mxid, error: errorText(err) });
    }
  }

  /** Runs `task` after earlier link/unlink tasks of the same user; rejects with its error. */
  private async serially<T>(mxid: string, task: () => Promise<T>): Promise<T> {
    let result: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    await this.perUser.push(mxid, async () => {
      try {
        result = { ok: true, value: await task() };
      } catch (error) {
        result = { ok: false, error };
      }
    });
    if (!result) throw new SkypeError(SkypeErrorCode.Aborted, "the session task did not run", false);
    if (!result.ok) throw result.error;
    return result.value;
  }
}
