// SPDX-License-Identifier: Apache-2.0
/**
 * The reference server's control API over HTTP (loopback), as a process outside the server would
 * use it: contacts send, connections are dropped, token lifetimes shortened, and the server's stored
 * history and request log are read back. Routes: refserver/msnp/control-routes.ts,
 * refserver/http/control-routes.ts, refserver/index.ts.
 */

/** A message as the server stored it (`GET /msnp/messages`); the fields the tests read. */
export interface ControlStoredMessage {
  id: number;
  arrival: number;
  from: string;
  to: string;
  messageType: string;
  content: string;
  clientMessageId?: string;
  editedId?: string;
}

/** One open MSNP connection (`GET /msnp/endpoints`); the fields the tests read. */
export interface ControlEndpoint {
  connection: number;
  user?: string;
  identities: string[];
  ready: boolean;
}

/** One logged HTTP request (`GET /http/requests`); no secrets. */
export interface ControlRequest {
  seq: number;
  time: string;
  method: string;
  path: string;
  endpoint: string;
  status: number;
  details: Record<string, unknown>;
}

export class ControlClient {
  constructor(readonly baseUrl: string) {
    const host = new URL(baseUrl).hostname;
    if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]")
      throw new Error(`the control API is loopback only, not ${host}`);
  }

  private async call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${json.error ?? ""}`);
    return json;
  }

  /** A contact (`from`) sends `text` to a user's MRI or to a thread. */
  send(m: {
    from: string;
    to: string;
    text: string;
    clientMessageId?: string;
  }): Promise<{ messageId: string }> {
    return this.call("POST", "/msnp/send", m);
  }

  /** `as` creates a group thread with `members` (MRIs); answers the thread id. */
  createThread(m: { as: string; members: string[]; topic?: string }): Promise<{ id: string }> {
    return this.call("POST", "/msnp/thread/create", m);
  }

  /** Cuts `user`'s MSNP connections now, after `afterFrames` more client frames, or with an `OUT`. */
  drop(m: { user: string; afterFrames?: number; out?: "SSD" | "OTH" }): Promise<{ connections: number }> {
    return this.call("POST", "/msnp/drop", m);
  }

  /** Stored history: one user's conversation, or every message to or from `conversation`. */
  async messages(q: { user?: string; conversation?: string }): Promise<ControlStoredMessage[]> {
    const params = new URLSearchParams();
    if (q.user) params.set("user", q.user);
    if (q.conversation) params.set("conversation", q.conversation);
    return (
      await this.call<{ messages: ControlStoredMessage[] }>("GET", `/msnp/messages?${params.toString()}`)
    ).messages;
  }

  async endpoints(): Promise<ControlEndpoint[]> {
    return (await this.call<{ endpoints: ControlEndpoint[] }>("GET", "/msnp/endpoints")).endpoints;
  }

  /** Access tokens issued from now on live `seconds`. */
  async setTokenLifetime(seconds: number): Promise<void> {
    await this.call("POST", "/world/token-lifetime", { seconds });
  }

  /** Changes HTTP-side knobs (e.g. `requestLogSize`). */
  async setHttpKnobs(knobs: Record<string, unknown>): Promise<void> {
    await this.call("POST", "/http/knobs", knobs);
  }

  /** The HTTP request log since sequence number `since`. */
  async requests(since = 0): Promise<ControlRequest[]> {
    return (await this.call<{ requests: ControlRequest[] }>("GET", `/http/requests?since=${since}`)).requests;
  }
}
