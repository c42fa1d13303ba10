// SPDX-License-Identifier: Apache-2.0
/**
 * The reference server's MSNP24 side: a TCP (or TLS) listener speaking PROFILE.md §3/§5 over the
 * shared World, with the knobs of ./options.ts, a control API under `/msnp/...` and an in-process
 * API mirroring it for tests.
 */
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import type { ControlApi } from "../control.js";
import type { Person, World } from "../world.js";
import { MsnpConnection } from "./connection.js";
import { registerMsnpControlRoutes } from "./control-routes.js";
import { dispatch } from "./dispatch.js";
import { encodeFrame } from "./frame.js";
import type { StoredMessage } from "./history.js";
import { MsnpHub, silentMsnpLogger, type DropPlan, type MsnpLogger, type ReceivedRecord } from "./hub.js";
import {
  controlDrop,
  controlDropAll,
  controlPresence,
  controlSend,
  controlSendRaw,
  controlTyping,
  findStored,
  endpointViews,
  personOf,
  receivedMessages,
  storedMessages,
  wireMri,
  asControl,
  type ControlMessage,
  type ControlSendResult,
  type EndpointView,
  type RawControlMessage,
} from "./operations.js";
import { checkOptions, DEFAULT_OPTIONS, type MsnpServerOptions } from "./options.js";
import { controlRead, listHorizons, type StoredHorizon } from "./horizons.js";
import { announcePresence, sendAllPresence } from "./presence.js";
import {
  createThread,
  removeMembers,
  updateThread,
  type MemberSpec,
  type ThreadActor,
} from "./thread-ops.js";
import { escapeXml } from "./xml.js";

export type { MsnpServerOptions } from "./options.js";
export type { MsnpLogger } from "./hub.js";
export type { ControlMessage, ControlSendResult, EndpointView, RawControlMessage } from "./operations.js";

/** The MSNP24 server. `close()` sends `OUT 0 CON SSD` to every client and stops listening. */
export class MsnpServer {
  private readonly hub: MsnpHub;
  private server?: Server;
  private readonly onAbch = (p: Person): void => this.abchChanged(p);

  /**
   * @param world shared state with the HTTP side (people, contacts, tokens, UICs).
   * @param options knobs; see MsnpServerOptions. `logger` receives secret-free log lines.
   * @param control when given, the `/msnp/...` routes are registered on it.
   */
  constructor(
    readonly world: World,
    options: Partial<MsnpServerOptions> & { logger?: MsnpLogger } = {},
    control?: ControlApi,
  ) {
    const { logger, ...knobs } = options;
    checkOptions(knobs);
    this.hub = new MsnpHub(world, { ...DEFAULT_OPTIONS, ...knobs }, logger ?? silentMsnpLogger);
    world.on("abchChanged", this.onAbch);
    // The object service (PROFILE §7.2) lets a thread's members at read time read its objects.
    world.threadMembers = (id) => {
      const t = this.hub.threads.get(id);
      return t ? [...t.members.keys()] : undefined;
    };
    const echo = world.find("8:echo123");
    if (echo) controlPresence(this.hub, "8:echo123", "NLN");
    if (control) registerMsnpControlRoutes(control, this);
  }

  /** Current knobs (a copy). */
  get options(): MsnpServerOptions {
    return { ...this.hub.options };
  }

  /** Changes knobs at run time. @throws OptionsError for an unusable value. */
  setOptions(partial: Partial<MsnpServerOptions>): MsnpServerOptions {
    checkOptions(partial);
    this.hub.options = { ...this.hub.options, ...partial };
    return this.options;
  }

  /** Starts listening (TLS when `options.tls` is set); resolves with the bound address. */
  async listen(port = 0, host = "127.0.0.1"): Promise<{ host: string; port: number }> {
    if (this.server) throw new Error("the MSNP server is already listening");
    const onSocket = (socket: Socket): void => this.accept(socket);
    const tls = this.hub.options.tls;
    const server = tls
      ? createTlsServer({ key: tls.key, cert: tls.cert }, onSocket)
      : createTcpServer(onSocket);
    server.on("tlsClientError", (e: Error) =>
      this.hub.log.warn("msnp TLS handshake failed", { error: e.message }),
    );
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (e: Error) => this.hub.log.warn("msnp listener error", { error: e.message }));
    const addr = server.address() as AddressInfo;
    this.hub.log.info("msnp listening", { host, port: addr.port, tls: !!tls });
    return { host, port: addr.port };
  }

  /** Says `OUT 0 CON SSD` to every client, closes every socket and the listener. */
  async close(): Promise<void> {
    this.world.off("abchChanged", this.onAbch);
    this.hub.shutdown();
    const conns = [...this.hub.connections];
    for (const c of conns) c.sendOut("SSD");
    // A client that does not read would keep its socket open: cut what is left after a grace.
    const cut = setTimeout(() => conns.forEach((c) => c.destroy()), 1000);
    cut.unref();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    clearTimeout(cut);
  }

  private accept(socket: Socket): void {
    if (this.hub.closed) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn = new MsnpConnection(this.hub, socket, dispatch, (c) => this.closed(c));
    this.hub.connections.add(conn);
  }

  private closed(conn: MsnpConnection): void {
    this.hub.connections.delete(conn);
    this.hub.forget(conn);
    const p = conn.person;
    if (!p || !conn.published || !conn.epid || this.hub.closed) return;
    const stillThere = this.hub.connectionsOf(p.key).some((c) => c.epid === conn.epid);
    if (!stillThere && this.hub.presence.removeEndpoint(p.key, conn.epid))
      announcePresence(this.hub, p, false);
  }

  /** `NFY 0 MSGR\ABCH` to the person's endpoints subscribed to the ABCH partner; presence re-synced. */
  private abchChanged(p: Person): void {
    const cid = BigInt.asIntN(64, BigInt(`0x${p.cid}`)).toString();
    const data =
      `<NotificationData><Service>ABCHInternal</Service><CID>${cid}</CID>` +
      `<LastModifiedDate>${new Date().toISOString()}</LastModifiedDate></NotificationData>`;
    const body =
      `<NOTIFICATION id="0" siteid="45705" siteurl="http://contacts.msn.com">` +
      `<TO name="${escapeXml(this.world.primaryMri(p))}"><VIA agent="messenger"/></TO>` +
      `<MSG id="0"><SUBSCR url="s.htm"/><ACTION url="a.htm"/><BODY>${escapeXml(data)}</BODY></MSG></NOTIFICATION>`;
    const frame = encodeFrame("NFY", 0, "MSGR\\ABCH", [], body);
    for (const c of this.hub.connectionsOf(p.key)) {
      if (c.ready && c.subs.partners.has("ABCH")) c.write(frame);
      sendAllPresence(this.hub, c);
    }
    announcePresence(this.hub, p, false);
  }

  // ---- in-process API (mirrors the control routes) ----

  /** A contact sends a message (text, rich text, emote, or an edit with `editedId`). */
  sendMessage(m: ControlMessage): ControlSendResult {
    return controlSend(this.hub, m);
  }

  /** A contact edits the message with Client-Message-ID `editedId`. */
  editMessage(m: { from: string; to: string; editedId: string; text: string }): ControlSendResult {
    return controlSend(this.hub, m);
  }

  /** A contact deletes the message with Client-Message-ID `editedId` (an edit with an empty body). */
  deleteMessage(m: { from: string; to: string; editedId: string }): ControlSendResult {
    return controlSend(this.hub, { ...m, text: "" });
  }

  /** A contact sends a message with any `Message-Type`, `Content-Type` and body, as given. */
  sendRaw(m: RawControlMessage): ControlSendResult {
    return controlSendRaw(this.hub, m);
  }

  /** Stored message `messageId` of `owner`'s conversation (thread id, or the other party by either identity). */
  storedMessage(m: {
    owner: string;
    conversation: string;
    messageId: number;
  }): { message: StoredMessage; conversation: string } | undefined {
    return findStored(this.hub, personOf(this.hub, m.owner), m.conversation, m.messageId);
  }

  /**
   * `user` marks `conversation` (as they name it) read up to `messageId` (PROFILE §7.5): stored and
   * pushed as if their client had sent `PUT MSGR\CONSUMPTIONHORIZON`.
   */
  read(m: { user: string; conversation: string; messageId: number }): StoredHorizon {
    return controlRead(this.hub, personOf(this.hub, m.user), m.conversation, m.messageId);
  }

  /** Stored horizons (latest per reader and conversation), optionally of one conversation / reader. */
  horizons(m: { conversation?: string; user?: string } = {}): ReturnType<typeof listHorizons> {
    const user = m.user !== undefined ? personOf(this.hub, m.user) : undefined;
    return listHorizons(this.hub, { conversation: m.conversation, user });
  }

  /** A contact starts typing (`Control/Typing`) or stops (`Control/ClearTyping`). */
  sendTyping(m: { from: string; to: string; stop?: boolean }): void {
    controlTyping(this.hub, m.from, m.to, m.stop);
  }

  /** Sets a person's presence status (`NLN`, `BSY`, `AWY`, `IDL`, `HDN`) or `offline`. */
  setPresence(m: { user: string; status: string; mood?: string }): void {
    controlPresence(this.hub, m.user, m.status, m.mood);
  }

  private actor(as: string): ThreadActor {
    const person = personOf(this.hub, as);
    return { person, mri: wireMri(this.hub, as, person) };
  }

  /** Creates a thread as `as` (admin) with `members`; returns its id. */
  createThread(m: { as: string; members: MemberSpec[]; topic?: string }): { id: string } {
    const t = asControl(() => createThread(this.hub, this.actor(m.as), m.members, m.topic));
    return { id: t.id };
  }

  /** Adds members (or changes their roles) as `as`. */
  addMembers(m: { as: string; thread: string; members: MemberSpec[] }): void {
    asControl(() => updateThread(this.hub, this.actor(m.as), m.thread, m.members));
  }

  /** Removes members (or leaves, when it is `as` itself). */
  removeMembers(m: { as: string; thread: string; members: string[] }): void {
    asControl(() => removeMembers(this.hub, this.actor(m.as), m.thread, m.members));
  }

  /** Sets a thread's topic as `as`. */
  setTopic(m: { as: string; thread: string; topic: string }): void {
    asControl(() => updateThread(this.hub, this.actor(m.as), m.thread, [], m.topic));
  }

  /** Drops a user's connections now, or after N more client frames. */
  dropUser(m: { user: string } & Partial<DropPlan>): { connections: number } {
    return controlDrop(this.hub, m.user, m);
  }

  /** Drops every open connection now (a reconnect storm), with `OUT` first when `out` is given. */
  dropEveryone(m: { out?: "OTH" | "SSD" } = {}): { connections: number } {
    return controlDropAll(this.hub, m.out);
  }

  /** Stored messages: all, one person's, or one conversation of one person. */
  storedMessages(m: { user?: string; conversation?: string } = {}): StoredMessage[] {
    return storedMessages(this.hub, m.user, m.conversation);
  }

  /** SDGs received from clients (Control/* included), optionally of one person. */
  receivedMessages(m: { user?: string } = {}): ReceivedRecord[] {
    return receivedMessages(this.hub, m.user);
  }

  /** Open connections and their endpoint state. */
  endpoints(): EndpointView[] {
    return endpointViews(this.hub);
  }

  /** Every thread (id, topic, members). */
  threads(): Array<{
    id: string;
    topic: string;
    creator: string;
    members: Array<{ mri: string; role: string }>;
  }> {
    return this.hub.threads.list().map((t) => ({
      id: t.id,
      topic: t.topic,
      creator: t.creator,
      members: [...t.members.values()].map((m) => ({ mri: m.mri, role: m.role })),
    }));
  }
}
