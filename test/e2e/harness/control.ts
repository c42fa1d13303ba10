// SPDX-License-Identifier: Apache-2.0
/**
 * The reference server's control API over HTTP (loopback), as a process outside the server would
 * use it: contacts send, connections are dropped, token lifetimes shortened, and the server's stored
 * history and request log are read back; media, quotes, read state and avatars (PROFILE §7). Routes:
 * refserver/msnp/control-routes.ts, refserver/http/control-routes.ts, refserver/media/control-routes.ts,
 * refserver/index.ts.
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

  /**
   * A contact sends an image or a file as a real client would (PROFILE §7.2, §7.3): the object is
   * created with the conversation in its permissions, uploaded (with the thumbnail, if given), then
   * the URIObject message is sent and stored.
   */
  mediaSend(m: {
    from: string;
    to: string;
    kind: "image" | "file";
    name: string;
    content: Buffer;
    mime?: string;
    thumbnail?: Buffer;
  }): Promise<ControlMediaSent> {
    return this.call("POST", "/media/send", {
      from: m.from,
      to: m.to,
      kind: m.kind,
      name: m.name,
      contentBase64: m.content.toString("base64"),
      mime: m.mime,
      thumbnailBase64: m.thumbnail?.toString("base64"),
    });
  }

  /** Creates an object without a message; without `content` its views stay `none`. */
  mediaObject(m: {
    owner: string;
    type: "pish/image" | "sharing/file";
    filename?: string;
    /** Conversation ids that may read it. */
    permissions?: string[];
    content?: Buffer;
    mime?: string;
  }): Promise<{ id: string; uri: string }> {
    return this.call("POST", "/media/object", {
      owner: m.owner,
      type: m.type,
      filename: m.filename,
      permissions: m.permissions,
      contentBase64: m.content?.toString("base64"),
      mime: m.mime,
    });
  }

  /** What the object service holds for `id` (what a client created and uploaded), or undefined. */
  async mediaGetObject(id: string): Promise<ControlMediaObject | undefined> {
    const res = await fetch(`${this.baseUrl}/media/object?id=${encodeURIComponent(id)}`);
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    const json = (await res.json()) as ControlMediaObject & { error?: string };
    if (!res.ok) throw new Error(`control GET /media/object: ${res.status} ${json.error ?? ""}`);
    return json;
  }

  /** A contact sends a message with any Message-Type, Content-Type and body, as given (hostile input). */
  sendRaw(m: {
    from: string;
    to: string;
    messageType: string;
    contentType?: string;
    body: string;
    clientMessageId?: string;
  }): Promise<{ messageId: number; clientMessageId: string }> {
    return this.call("POST", "/msnp/send-raw", m);
  }

  /** `from` replies in `to` with a PROFILE §7.4 quote of stored message `messageId`, then `text`. */
  quote(m: {
    from: string;
    to: string;
    messageId: number | string;
    text: string;
    kind?: "text" | "richtext";
  }): Promise<{ messageId: number; clientMessageId: string }> {
    return this.call("POST", "/media/quote", m);
  }

  /** `user` marks `conversation` (as they see it) read up to `messageId` (PROFILE §7.5). */
  async read(m: { user: string; conversation: string; messageId: number | string }): Promise<void> {
    await this.call("POST", "/msnp/read", m);
  }

  /** The latest consumption horizon each member set in `conversation` (optionally one user's). */
  async horizons(q: { conversation?: string; user?: string } = {}): Promise<ControlHorizon[]> {
    const params = new URLSearchParams();
    if (q.conversation) params.set("conversation", q.conversation);
    if (q.user) params.set("user", q.user);
    return (await this.call<{ horizons: ControlHorizon[] }>("GET", `/msnp/horizons?${params.toString()}`))
      .horizons;
  }

  /** Sets or changes `user`'s avatar (PROFILE §7.6); their contacts get `NFY MSGR\ABCH`. */
  setAvatar(m: { user: string; content: Buffer; mime?: string }): Promise<{ etag: string }> {
    return this.call("POST", "/http/avatar", {
      user: m.user,
      contentBase64: m.content.toString("base64"),
      mime: m.mime,
    });
  }

  /** Removes `user`'s avatar (their contacts are told the same way). */
  async clearAvatar(user: string): Promise<void> {
    await this.call("POST", "/http/avatar/clear", { user });
  }
}

/** What `POST /media/send` answers. */
export interface ControlMediaSent {
  messageId: number;
  clientMessageId: string;
  objectId: string;
  /** `{ams}/v1/objects/{id}`. */
  uri: string;
}

/** An object as the object service holds it (`GET /media/object`). */
export interface ControlMediaObject {
  id: string;
  type: "pish/image" | "sharing/file";
  /** The creator's `8:` identity (`1:` without a Skype name). */
  creator: string;
  filename: string | null;
  /** As the creator sent them: conversation id → rights. */
  permissions: Record<string, string[]>;
  /** Views with content: size, SHA-256 (hex), served Content-Type, whether downloadable now. */
  views: Record<string, { size: number; sha256: string; contentType: string; ready: boolean }>;
  /** The uploaded image or file; null before the upload. */
  contentBase64: string | null;
}

/** One stored consumption horizon (`GET /msnp/horizons`). */
export interface ControlHorizon {
  /** The reader's identity. */
  user: string;
  /** The conversation as the reader named it (the other party's identity, or a thread id). */
  conversation: string;
  /** `{Message-ID};{ms};{Client-Message-ID or Message-ID}` as sent. */
  horizon: string;
  /** The first field of `horizon`. */
  messageId: number;
}
