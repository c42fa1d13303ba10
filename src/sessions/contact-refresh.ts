// SPDX-License-Identifier: Apache-2.0
/**
 * Keeps one session's contacts (ActiveSync) and incoming contact requests (ABCH) fresh: one run at
 * a time (a request during a run queues exactly one more), an optional fixed interval, and a
 * failing run retried later with exponential backoff. Refused credentials are reported once and
 * stop all retries; nothing here ever rejects into the event loop.
 */
import type { ContactSync } from "../skype/activesync/contact-sync.js";
import { SkypeError, SkypeErrorCode } from "../skype/errors.js";
import type { Contact } from "../skype/model.js";
import type { AddressBookClient } from "../skype/soap/address-book.js";
import { errorText, type Logger } from "../util/logger.js";
import type { ContactRequest } from "./types.js";
import { backoffDelay } from "../util/backoff.js";
import type { ContactsReadInfo } from "./types.js";

/** The parts of ContactSync the refresher uses. */
export type ContactSource = Pick<ContactSync, "syncAll" | "contacts">;
/** The part of AddressBookClient the refresher uses. */
export type RequestSource = Pick<AddressBookClient, "findPendingRequests">;

/** Where results go. Every hook is called synchronously and must not throw (a throw is logged). */
export interface ContactRefreshHooks {
  /** The merged contact list after a successful ActiveSync run, and why it was read. */
  contacts(list: Contact[], info: ContactsReadInfo): void;
  /** The full list of incoming requests after a successful ABCH read. */
  requests(list: ContactRequest[]): void;
  /** Sync bookkeeping changed: persist it. */
  persist(): void;
  /** The sign-in was refused (`SKYPE_BAD_CREDENTIALS`): no retry will follow. */
  badCredentials(error: SkypeError): void;
}

/**
 * Reasons that only re-read what may not have changed (see {@link ContactsReadInfo.routine}). A
 * retry is routine by itself; a failed run that was asked for by a change leaves the change asked.
 */
const ROUTINE_REASONS: ReadonlySet<string> = new Set(["connected", "interval", "retry"]);

export interface ContactRefreshOptions {
  /** Re-read everything this often (ms); off when absent. */
  intervalMs?: number;
  /** First retry delay after a failure (ms). Default 15 s. */
  retryInitialMs?: number;
  /** Longest retry delay (ms). Default 10 min. */
  retryMaxMs?: number;
}

const DEFAULT_RETRY_INITIAL_MS = 15_000;
const DEFAULT_RETRY_MAX_MS = 10 * 60_000;

function asSkypeError(e: unknown): SkypeError {
  if (e instanceof SkypeError) return e;
  return new SkypeError(SkypeErrorCode.Network, `contact sync failed: ${errorText(e)}`, true, { cause: e });
}

/** Contact and request refresh for one session. */
export class ContactRefresher {
  private running?: Promise<void>;
  private queued?: Promise<void>;
  private stopped = false;
  /** Set when the sign-in was refused: later calls fail with it. */
  private refused?: SkypeError;
  private failures = 0;
  private retryTimer?: NodeJS.Timeout;
  private intervalTimer?: NodeJS.Timeout;
  /**
   * Aborts the run in flight. One per run, not one per refresher: a controller and its signal are
   * ~1 KB, kept for every idle session otherwise (BENCHMARKS.md, cause 5).
   */
  private inFlight?: AbortController;
  private last: Contact[];
  /** A caller since the last run started asked because something changed (not routine). */
  private changeAsked = false;

  constructor(
    private readonly contactsFrom: ContactSource,
    private readonly requestsFrom: RequestSource,
    private readonly hooks: ContactRefreshHooks,
    private readonly log: Logger,
    private readonly options: ContactRefreshOptions = {},
  ) {
    this.last = contactsFrom.contacts();
  }

  /** The contact list of the last successful sync (or of the persisted state before the first). */
  contacts(): Contact[] {
    return this.last.map((c) => ({ ...c, identities: [...c.identities] }));
  }

  /**
   * The same list, not copied: frozen, and the same object until the list changes (ContactSync
   * keeps it across syncs that changed nothing). For callers that only read it.
   */
  shared(): readonly Contact[] {
    return this.last;
  }

  /** Starts the periodic refresh, if configured. */
  start(): void {
    const every = this.options.intervalMs;
    if (this.stopped || this.intervalTimer || !every || every <= 0) return;
    this.intervalTimer = setInterval(() => this.trigger("interval"), every);
    this.intervalTimer.unref();
  }

  /** Stops timers and aborts a run in flight; `refusal` is what later calls fail with. Idempotent. */
  stop(refusal?: SkypeError): void {
    this.refused ??= refusal;
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.intervalTimer);
    clearTimeout(this.retryTimer);
    this.inFlight?.abort();
  }

  /** Refreshes in the background; failures are logged and retried. Never throws. */
  trigger(reason: string): void {
    this.refresh(reason).catch(() => undefined);
  }

  /**
   * Refreshes now: contacts, then requests. A call during a run waits for one more run after it.
   * @throws SkypeError: the first failure of the run (a retry is scheduled unless it is
   *   `SKYPE_BAD_CREDENTIALS`); once stopped, that refusal or `SKYPE_NOT_CONNECTED`.
   */
  refresh(reason: string): Promise<void> {
    if (!ROUTINE_REASONS.has(reason)) this.changeAsked = true;
    if (this.stopped) {
      return Promise.reject(
        this.refused ?? new SkypeError(SkypeErrorCode.NotConnected, "the session is stopped", false),
      );
    }
    if (!this.running) {
      this.running = this.runOnce(reason).finally(() => (this.running = undefined));
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.refresh(reason);
      });
    return this.queued;
  }

  private async runOnce(reason: string): Promise<void> {
    const controller = new AbortController();
    this.inFlight = controller;
    try {
      await this.runWith(reason, controller.signal);
    } finally {
      if (this.inFlight === controller) this.inFlight = undefined;
    }
  }

  private async runWith(reason: string, signal: AbortSignal): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.log.debug("refreshing contacts and requests", { reason });
    // Reasons of callers that joined a queued run are merged: any change makes the run a change.
    const routine = !this.changeAsked;
    this.changeAsked = false;
    let failure: SkypeError | undefined;
    // The sync bookkeeping is saved once, after both reads (each read that succeeded may have moved
    // it on): one copy of the whole state per run instead of two, at every reconnect of every
    // session. A crash between the two reads leaves the keys of the run before, which the server
    // still takes or answers with a restart from key 0.
    let read = false;
    try {
      const list = await this.contactsFrom.syncAll(signal);
      read = true;
      if (!this.stopped) {
        this.last = list;
        this.call("contacts", () => this.hooks.contacts(list, { routine }));
      }
    } catch (e) {
      if (!routine) this.changeAsked = true;
      failure = this.noteFailure("contacts", e);
    }
    if (!this.stopped && failure?.code !== SkypeErrorCode.BadCredentials) {
      try {
        const pending = await this.requestsFrom.findPendingRequests(signal);
        read = true;
        const list = pending.map((p) => ({ mri: p.mri, displayName: p.displayName, message: p.message }));
        if (!this.stopped) this.call("requests", () => this.hooks.requests(list));
      } catch (e) {
        failure ??= this.noteFailure("contact requests", e);
      }
    }
    if (read) this.call("persist", () => this.hooks.persist());
    if (!failure) {
      this.failures = 0;
      return;
    }
    if (this.stopped) throw this.refused ?? failure;
    if (failure.code === SkypeErrorCode.BadCredentials) {
      const refused = failure;
      this.stop(refused);
      this.call("badCredentials", () => this.hooks.badCredentials(refused));
    } else {
      this.scheduleRetry();
    }
    throw failure;
  }

  private noteFailure(what: string, e: unknown): SkypeError {
    const err = asSkypeError(e);
    if (!this.stopped && err.code !== SkypeErrorCode.Aborted) {
      this.log.warn(`reading ${what} failed`, { code: err.code, error: errorText(err) });
    }
    return err;
  }

  private scheduleRetry(): void {
    const initial = this.options.retryInitialMs ?? DEFAULT_RETRY_INITIAL_MS;
    const max = this.options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS;
    const delay = backoffDelay(this.failures, { initialMs: initial, maxMs: max });
    this.failures++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.trigger("retry"), delay);
    this.retryTimer.unref();
    this.log.info("contact refresh will be retried", { delayMs: delay });
  }

  private call(hook: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error("a contact-refresh hook threw", { hook, error: errorText(e) });
    }
  }
}
