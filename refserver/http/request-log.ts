// SPDX-License-Identifier: Apache-2.0
/**
 * The recent-request log the control API shows (`GET /http/requests`), so tests can check what a
 * client sent. Entries hold the path without its query, the endpoint, the status and details
 * handlers add (operation, user, sync keys…); never a token, password, cookie, PPFT or UIC.
 */

/** One logged request. */
export interface RequestLogEntry {
  /** Increasing sequence number (1, 2, …) for `?since=`. */
  seq: number;
  /** ISO-8601 time the request arrived. */
  time: string;
  method: string;
  /** Path without the query string (queries can carry tokens). */
  path: string;
  /** The `Host` header (shows whether a client followed `PreferredHostName`). */
  host: string;
  /** Endpoint name, or `"unknown"`. */
  endpoint: string;
  /** Status sent (0 while the request is in flight). */
  status: number;
  /** Handler-specific details (no secrets). */
  details: Record<string, unknown>;
}

const SECRET_KEY = /pass(word|wd)?|token|cookie|authorization|secret|uic|ticket|ppft|mspok|nonce/i;

/** Removes secret-looking keys, in case a handler ever notes one by mistake. */
function scrub(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) if (!SECRET_KEY.test(k)) out[k] = v;
  return out;
}

/** A bounded list of recent requests. */
export class RequestLog {
  private readonly entries: RequestLogEntry[] = [];
  private seq = 0;

  constructor(private readonly size: () => number) {}

  /** Starts an entry; the caller fills in `status` and `details` as the request goes on. */
  begin(method: string, path: string, host: string, endpoint: string): RequestLogEntry {
    const e: RequestLogEntry = {
      seq: ++this.seq,
      time: new Date().toISOString(),
      method,
      path,
      host,
      endpoint,
      status: 0,
      details: {},
    };
    this.entries.push(e);
    while (this.entries.length > Math.max(1, this.size())) this.entries.shift();
    return e;
  }

  /** Adds details to an entry (secret-looking keys are dropped). */
  note(e: RequestLogEntry, details: Record<string, unknown>): void {
    Object.assign(e.details, scrub(details));
  }

  /** Entries with `seq` greater than `since`, oldest first (copies). */
  list(since = 0): RequestLogEntry[] {
    return this.entries.filter((e) => e.seq > since).map((e) => ({ ...e, details: { ...e.details } }));
  }

  clear(): void {
    this.entries.length = 0;
  }
}
