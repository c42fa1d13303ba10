// SPDX-License-Identifier: Apache-2.0
/**
 * A raw MSNP24 test client written from PROFILE.md's point of view (its own framing code, not the
 * server's): sends frames with UTF-8 byte lengths, collects every frame the server sends, and
 * waits for frames by predicate.
 */
import { connect, type Socket } from "node:net";
import { randomUUID } from "node:crypto";
import { SCOPES, type World, type Person } from "../../../refserver/world.js";

export interface RawFrame {
  cmd: string;
  trid: string;
  type: string;
  length: number;
  /** Top header block, names lower-cased. */
  headers: Record<string, string>;
  body: string;
  payload: Buffer;
}

export interface Blocks {
  routing: Record<string, string>;
  reliability: Record<string, string>;
  content: Record<string, string>;
  body: string;
}

function headerMap(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) out[line.slice(0, i).trim().toLowerCase()] ??= line.slice(i + 1).trim();
  }
  return out;
}

/** Splits a Routing / Reliability / content body. */
export function blocks(body: string): Blocks {
  const parts = body.split("\r\n\r\n");
  return {
    routing: headerMap(parts[0] ?? ""),
    reliability: headerMap(parts[1] ?? ""),
    content: headerMap(parts[2] ?? ""),
    body: parts.slice(3).join("\r\n\r\n"),
  };
}

/** Builds a frame: top headers, blank line, body; length in UTF-8 bytes. `zero` sends `len` 0. */
export function frameBytes(
  cmd: string,
  trid: number | string,
  type: string,
  headers: Array<[string, string]> = [],
  body = "",
  zero = false,
): Buffer {
  const payload = zero ? "" : headers.map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n" + body;
  return Buffer.from(`${cmd} ${trid} ${type} ${Buffer.byteLength(payload, "utf8")}\r\n${payload}`, "utf8");
}

/** A Routing / Reliability / Messaging body with a correct Content-Length. */
export function mmm(
  routing: Array<[string, string]>,
  content: Array<[string, string]>,
  body: string,
): string {
  const h = (list: Array<[string, string]>): string =>
    list.map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
  return (
    h([["Routing", "1.0"], ...routing]) +
    h([["Reliability", "1.0"]]) +
    h([...content, ["Content-Length", String(Buffer.byteLength(body, "utf8"))]]) +
    body
  );
}

export class RawClient {
  readonly frames: RawFrame[] = [];
  closed = false;
  readonly closedPromise: Promise<void>;
  /** Called for every frame as it arrives. */
  onFrame?: (f: RawFrame) => void;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(private readonly socket: Socket) {
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("error", () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.on("close", () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** Wraps an already connected socket (e.g. TLS). */
  static wrap(socket: Socket): RawClient {
    return new RawClient(socket);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => resolve(new RawClient(s)));
      s.once("error", reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const eol = this.buf.indexOf("\r\n");
      if (eol < 0) break;
      const [cmd, trid, type, len] = this.buf.subarray(0, eol).toString("latin1").split(" ");
      const length = Number(len);
      if (this.buf.length < eol + 2 + length) break;
      const payload = this.buf.subarray(eol + 2, eol + 2 + length);
      this.buf = this.buf.subarray(eol + 2 + length);
      const text = payload.toString("utf8");
      let headers: Record<string, string> = {};
      let body = text;
      if (text.startsWith("\r\n")) body = text.slice(2);
      else if (text.length) {
        const i = text.indexOf("\r\n\r\n");
        headers = headerMap(text.slice(0, i));
        body = text.slice(i + 4);
      }
      const f: RawFrame = { cmd: cmd!, trid: trid!, type: type!, length, headers, body, payload };
      this.frames.push(f);
      this.onFrame?.(f);
    }
    this.wake();
  }

  write(buf: Buffer): void {
    this.socket.write(buf);
  }

  send(
    cmd: string,
    trid: number | string,
    type: string,
    headers: Array<[string, string]> = [],
    body = "",
  ): void {
    this.write(frameBytes(cmd, trid, type, headers, body));
  }

  /** Removes and returns the first frame matching `pred`, waiting for it (fails after `ms`). */
  async next(pred: (f: RawFrame) => boolean = () => true, ms = 5000): Promise<RawFrame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      if (this.closed) throw new Error("connection closed while waiting for a frame");
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no matching frame; have ${this.frames.map((f) => f.cmd + " " + f.type).join(", ")}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until the server closes the connection. */
  async waitClosed(ms = 5000): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    await Promise.race([
      this.closedPromise,
      new Promise((_, reject) => (t = setTimeout(() => reject(new Error("connection not closed")), ms))),
    ]);
    clearTimeout(t);
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closedPromise;
  }
}

/** A signed-in client: adds trids and the newest `Registration` cookie to what it sends. */
export class Session {
  trid = 10;
  cookie = "";
  constructor(
    readonly client: RawClient,
    readonly person: Person,
    readonly epid: string,
  ) {
    client.onFrame = (f) => {
      const set = f.headers["set-registration"];
      if (set) this.cookie = set;
    };
  }

  /** The `8:` identity (or `1:` when there is none). */
  get mri(): string {
    return this.person.skypename ? `8:${this.person.skypename}` : `1:${this.person.email}`;
  }

  send(cmd: string, type: string, body = "", headers: Array<[string, string]> = []): number {
    const trid = ++this.trid;
    this.client.send(cmd, trid, type, [["Registration", this.cookie], ...headers], body);
    return trid;
  }

  /** Sends and waits for the reply with the same trid. */
  async call(cmd: string, type: string, body = "", headers: Array<[string, string]> = []): Promise<RawFrame> {
    const trid = String(this.send(cmd, type, body, headers));
    return this.client.next((f) => f.trid === trid);
  }

  /** Sends a text SDG; returns its Client-Message-ID. */
  sdg(to: string, text: string, extra: Array<[string, string]> = [], from?: string): string {
    const cmid = String(Date.now() * 1000 + Math.floor(Math.random() * 1000));
    const content: Array<[string, string]> = [
      ["Messaging", "2.0"],
      ["Client-Message-ID", cmid],
      ["Message-Type", "Text"],
      ["IM-Display-Name", this.person.displayName],
      ["Content-Type", "Text/plain; charset=UTF-8"],
    ];
    for (const [k, v] of extra) {
      const i = content.findIndex(([n]) => n.toLowerCase() === k.toLowerCase());
      if (i >= 0) content[i] = [k, v];
      else content.push([k, v]);
    }
    const body = mmm(
      [
        ["To", to],
        ["From", `${from ?? this.mri};epid={${this.epid}}`],
      ],
      content,
      text,
    );
    this.send("SDG", "MSGR", body);
    return cmid;
  }

  /** A PNG round trip: every frame the server sent before its reply has arrived afterwards. */
  async barrier(): Promise<void> {
    await this.call("PNG", "CON");
  }

  /** ACKs every pending push (SDG with Ack-Id) in the received queue. */
  ack(f: RawFrame): void {
    this.send("ACK", "MSGR", "", [["Ack-Id", f.headers["ack-id"]!]]);
  }
}

export const SUBSCRIBE_ALL =
  "<subscribe><presence><buddies><all /></buddies></presence><messaging><im /><conversations /></messaging>" +
  "<notifications><partners><partner>ABCH</partner></partners></notifications></subscribe>";

export interface SignInOptions {
  epid?: string;
  /** Send `PUT MSGR\SUBSCRIPTIONS` with this body (default SUBSCRIBE_ALL; null: none). */
  subscribe?: string | null;
  /** Answer a BND challenge with this function. */
  answer?: (nonce: string) => string;
}

/** CNT → ATH → BND (→ challenge) → SUBSCRIPTIONS, the PROFILE §3 login. */
export async function signIn(
  world: World,
  port: number,
  who: string,
  o: SignInOptions = {},
): Promise<Session> {
  const person = world.mustFind(who);
  const client = await RawClient.connect(port);
  client.send("CNT", 1, "CON", [], "<connect><ver>2</ver><agent><os>winnt</os></agent></connect>");
  const cnt = await client.next((f) => f.trid === "1");
  const nonce = /<nonce>([^<]+)<\/nonce>/.exec(cnt.body)![1]!;
  const ticket = world.issueTokens(person, SCOPES.ath).access_token;
  const uic = world.issueUic(person, nonce);
  client.send("ATH", 2, "CON\\USER", [], athBody(ticket, uic, person));
  const ath = await client.next((f) => f.trid === "2");
  if (ath.cmd !== "ATH") throw new Error(`ATH failed: ${ath.cmd} ${ath.body}`);
  const epid = o.epid ?? randomUUID();
  const session = new Session(client, person, epid);
  client.send("BND", 3, "CON\\MSGR", [], bndBody(epid));
  const bnd = await client.next((f) => f.trid === "3");
  session.cookie = bnd.headers["set-registration"]!;
  const nonce2 = /<nonce>([^<]+)<\/nonce>/.exec(bnd.body)?.[1];
  if (nonce2 && o.answer) {
    const r = await session.call(
      "PUT",
      "MSGR\\CHALLENGE",
      `<challenge><appId>PROD0090YUAUV{2B</appId><response>${o.answer(nonce2)}</response></challenge>`,
    );
    if (r.cmd !== "PUT") throw new Error(`challenge failed: ${r.cmd}`);
  }
  if (o.subscribe !== null) await session.call("PUT", "MSGR\\SUBSCRIPTIONS", o.subscribe ?? SUBSCRIBE_ALL);
  return session;
}

export function athBody(ticket: string, uic: string, p: Person): string {
  const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return (
    `<user><ssl-compact-ticket>t=${esc(ticket)}</ssl-compact-ticket><uic>${esc(uic)}</uic>` +
    `<id>${p.email ?? p.skypename}</id>${p.skypename ? `<alias>${p.skypename}</alias>` : ""}</user>`
  );
}

export function bndBody(epid: string): string {
  return (
    "<msgr><ver>2</ver><altVersions><ver>1</ver></altVersions><client><name>Skype</name>" +
    `<ver>0/6.16.0.105/259/</ver></client><epid>${epid}</epid></msgr>`
  );
}

/** Waits until `pred()` holds, checking after each event-loop turn (fails after `ms`). */
export async function waitFor(pred: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 5));
  }
}
