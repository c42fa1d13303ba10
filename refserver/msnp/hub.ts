// SPDX-License-Identifier: Apache-2.0
/**
 * Shared messaging state of the MSNP side: live connections, unacknowledged pushes per endpoint,
 * history, threads, presence, the Message-ID counter and the log of what clients sent. The world
 * (people, contacts, tokens) stays in ../world.ts and is only read here.
 */
import { randomBytes } from "node:crypto";
import type { Person, World } from "../world.js";
import type { MsnpConnection } from "./connection.js";
import type { HeaderList } from "./frame.js";
import { HistoryStore } from "./history.js";
import { HorizonStore } from "./horizons.js";
import type { MsnpServerOptions } from "./options.js";
import { PresenceStore } from "./presence-store.js";
import { ThreadStore } from "./threads.js";

/** Where the server reports what it does. Never given secrets. */
export interface MsnpLogger {
  info(msg: string, ctx?: Record<string, unknown>): void;
  warn(msg: string, ctx?: Record<string, unknown>): void;
}

/** A logger that drops everything (the default). */
export const silentMsnpLogger: MsnpLogger = { info: () => undefined, warn: () => undefined };

/** An `SDG` a client sent, as recorded for the control API. */
export interface ReceivedRecord {
  readonly at: number;
  readonly user: string;
  readonly epid?: string;
  readonly from: string;
  readonly to: string;
  readonly messageType: string;
  readonly messaging: HeaderList;
  readonly body: string;
  /** The Message-ID given to it, when it was stored. */
  messageId?: number;
}

/** Planned drop of a person's connections after N more client frames. */
export interface DropPlan {
  afterFrames: number;
  out?: "OTH" | "SSD";
}

const MAX_RECEIVED = 10_000;

/** Unacknowledged pushes per endpoint (`<person key>|<epid>`), in the order they were sent. */
export class AckStore {
  private readonly byEndpoint = new Map<string, Map<string, Buffer>>();

  add(endpoint: string, ackId: string, frame: Buffer, max: number): void {
    let m = this.byEndpoint.get(endpoint);
    if (!m) this.byEndpoint.set(endpoint, (m = new Map<string, Buffer>()));
    m.set(ackId, frame);
    while (m.size > max) {
      const oldest = m.keys().next().value;
      if (oldest === undefined) break;
      m.delete(oldest);
    }
  }

  /** Forgets a push; false when the id was not pending for that endpoint. */
  ack(endpoint: string, ackId: string): boolean {
    return this.byEndpoint.get(endpoint)?.delete(ackId) ?? false;
  }

  pending(endpoint: string): Array<[ackId: string, frame: Buffer]> {
    return [...(this.byEndpoint.get(endpoint) ?? new Map<string, Buffer>()).entries()];
  }
}

const EMPTY: ReadonlySet<MsnpConnection> = new Set();

/** The MSNP side's shared state; one per MsnpServer. */
export class MsnpHub {
  readonly connections = new Set<MsnpConnection>();
  /**
   * Bound connections by person, and connections by the persons whose presence they were told
   * (to send a DEL when it goes): indexes, so that a login or a presence change costs the person's
   * contacts, not every connection on the server (at 10,000 accounts a scan per login was the
   * bench's bottleneck).
   */
  private readonly byPerson = new Map<string, Set<MsnpConnection>>();
  private readonly knownBy = new Map<string, Set<MsnpConnection>>();
  readonly history = new HistoryStore();
  /** Consumption horizons (PROFILE §7.5): the latest per reader and conversation. */
  readonly horizons = new HorizonStore();
  readonly threads = new ThreadStore();
  readonly presence = new PresenceStore();
  readonly acks = new AckStore();
  readonly received: ReceivedRecord[] = [];
  /** person key → drop planned for that person's next connection(s). */
  readonly pendingDrops = new Map<string, DropPlan>();
  closed = false;
  private lastMessageId = 0;
  private ackCounter = BigInt(Date.now()) << 12n;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sleepers = new Set<() => void>();

  constructor(
    readonly world: World,
    public options: MsnpServerOptions,
    readonly log: MsnpLogger,
  ) {}

  /** Message-IDs come from one strictly increasing, ms-epoch-like counter (PROFILE §5). */
  nextMessageId(now = Date.now()): number {
    this.lastMessageId = Math.max(now, this.lastMessageId + 1);
    return this.lastMessageId;
  }

  /** A fresh `Ack-Id`: 16 upper-case hex digits. */
  nextAckId(): string {
    this.ackCounter += 1n;
    return this.ackCounter.toString(16).toUpperCase().padStart(16, "0");
  }

  /** A server-chosen `Client-Message-ID` (decimal, below 2^63). */
  newClientMessageId(): string {
    return (randomBytes(8).readBigUInt64BE() >> 1n).toString();
  }

  /** Bound, open connections of a person. */
  connectionsOf(personKey: string): MsnpConnection[] {
    const conns = this.byPerson.get(personKey);
    return conns ? [...conns].filter((c) => c.bound && !c.closed) : [];
  }

  /** Records that `conn` is now bound (BND) to its person. */
  bound(conn: MsnpConnection): void {
    const key = conn.person?.key;
    if (key === undefined) return;
    let set = this.byPerson.get(key);
    if (!set) this.byPerson.set(key, (set = new Set()));
    set.add(conn);
  }

  /** Records whether `conn` was told the presence of `personKey` (see presence.ts). */
  noteKnown(conn: MsnpConnection, personKey: string, known: boolean): void {
    let set = this.knownBy.get(personKey);
    if (known) {
      if (!set) this.knownBy.set(personKey, (set = new Set()));
      set.add(conn);
    } else if (set?.delete(conn) && set.size === 0) this.knownBy.delete(personKey);
  }

  /** Connections that were told `personKey`'s presence and may need a DEL. */
  knowing(personKey: string): ReadonlySet<MsnpConnection> {
    return this.knownBy.get(personKey) ?? EMPTY;
  }

  /** Forgets a closed connection in the indexes. */
  forget(conn: MsnpConnection): void {
    const key = conn.person?.key;
    const set = key === undefined ? undefined : this.byPerson.get(key);
    if (set?.delete(conn) && set.size === 0) this.byPerson.delete(key!);
    for (const known of conn.knownPresence.keys()) this.noteKnown(conn, known, false);
  }

  /** Finds a person by e-mail, Skype name or MRI. */
  find(id: string): Person | undefined {
    return this.world.find(id);
  }

  record(r: ReceivedRecord): void {
    this.received.push(r);
    if (this.received.length > MAX_RECEIVED) this.received.splice(0, this.received.length - MAX_RECEIVED);
  }

  /** Runs `fn` after `ms` unless the server closes first. */
  later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(t);
  }

  /** A promise resolved after `ms` (or at once when the server closes). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      const done = (): void => {
        clearTimeout(t);
        this.timers.delete(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.timers.add(t);
      this.sleepers.add(done);
    });
  }

  shutdown(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const wake of [...this.sleepers]) wake();
  }
}
