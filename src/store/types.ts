// SPDX-License-Identifier: Apache-2.0
/**
 * The bridge's memory: the `Store` contract that sessions/ and bridge/ depend on, and its row types.
 *
 * Contract for every method below unless it says otherwise:
 * - **Synchronous** (better-sqlite3): it blocks the event loop for the duration of one SQLite
 *   statement or transaction, does no network I/O and returns plain values, never promises.
 * - **Durable on return**: a write has been committed (WAL, `synchronous=NORMAL`) and survives SIGKILL
 *   from then on, and power loss once the next checkpoint synced it (within about a second, see
 *   db.ts); a write that throws has changed nothing.
 * - **Throws only `StoreError`** (see errors.ts): `STORE_CONSTRAINT` for writes that refer to an
 *   unknown user or room, `STORE_INVALID_ARGUMENT` for malformed input, `STORE_BUSY` (retryable)
 *   when locked past the busy timeout, `STORE_CLOSED` after `close()`, `STORE_IO`, `STORE_CORRUPT`.
 * - Lookups return `undefined` when nothing matches; updates of a missing row throw `STORE_NOT_FOUND`.
 * - Patches: a field left `undefined` keeps its value, `null` clears it.
 * - Ids are plain strings (mxids, room ids, event ids, Skype identities and ids exactly as on the wire);
 *   the store never parses them beyond checking a Skype identity looks like `<netId>:<name>`.
 */
import type {
  CursorRow,
  IdentityRow,
  InboxRow,
  InsertResult,
  LinkResult,
  MessageDirection,
  MessageRow,
  OutboxRow,
  PendingRequestRow,
  PendingRequestStatus,
  PersonRow,
  PortalKind,
  PortalRow,
  PuppetRow,
  UserRow,
} from "./rows.js";

export type * from "./rows.js";

/** The store: one repository per concern, plus a transaction to combine their writes. */
export interface Store {
  readonly meta: MetaRepo;
  readonly users: UserRepo;
  readonly persons: PersonRepo;
  readonly puppets: PuppetRepo;
  readonly portals: PortalRepo;
  readonly messages: MessageRepo;
  readonly cursors: CursorRepo;
  readonly outbox: OutboxRepo;
  readonly pendingRequests: PendingRequestRepo;
  readonly inbox: InboxRepo;
  /**
   * Runs `fn` in one transaction: every store write inside commits together or not at all (nested
   * calls are savepoints). `fn` must be synchronous and must not await; returning a promise throws.
   */
  transaction<T>(fn: () => T): T;
  /** Closes the database (idempotent). Later calls throw `STORE_CLOSED`. */
  close(): void;
}

/** Free key/value bookkeeping. Keys starting with `store.` are reserved for the store itself. */
export interface MetaRepo {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  delete(key: string): boolean;
}

/** Fields of a user that `upsert` can set. */
export interface UserPatch {
  readonly managementRoomId?: string | null;
  readonly accountEmail?: string | null;
  readonly skypeName?: string | null;
  readonly liveMri?: string | null;
  readonly skypeMri?: string | null;
  readonly epid?: string | null;
  readonly loginState?: string;
  readonly stateDetail?: string | null;
  /** Any JSON-serialisable value; `null` clears it. */
  readonly contactSyncState?: unknown;
}

export interface UserRepo {
  get(mxid: string): UserRow | undefined;
  list(): UserRow[];
  /** Linked users whose own `1:` or `8:` identity is `mri`. */
  listByMri(mri: string): UserRow[];
  /** The user whose management room is `roomId`, if any (checked on every Matrix message). */
  getByManagementRoom(roomId: string): UserRow | undefined;
  /** Creates the user if missing (state `logged_out`), then applies the patch. */
  upsert(mxid: string, patch?: UserPatch): UserRow;
  /**
   * Applies the patch to an existing user; false (nothing written) when there is none. Reads
   * nothing back: for the frequent writes of a running session (its state, its sync bookkeeping).
   */
  update(mxid: string, patch: UserPatch): boolean;
  /**
   * Stores the refresh token encrypted (AES-256-GCM, bound to this mxid), or clears it with `null`.
   * `STORE_NO_KEY` when the store was opened without a key; `STORE_NOT_FOUND` for an unknown user.
   */
  setRefreshToken(mxid: string, token: string | null): void;
  /**
   * The only way to read a refresh token in clear text. `undefined` when none is stored;
   * `STORE_NO_KEY` without a key; `STORE_CORRUPT` when the stored value fails its integrity check.
   */
  getRefreshToken(mxid: string): string | undefined;
  /**
   * Stores the Matrix access token the user gave for double puppeting, encrypted like the refresh
   * token (bound to this mxid), or clears it with `null`. Same errors as {@link setRefreshToken}.
   */
  setMatrixToken(mxid: string, token: string | null): void;
  /** The double-puppeting access token in clear text, or `undefined`. Same errors as {@link getRefreshToken}. */
  getMatrixToken(mxid: string): string | undefined;
  /** Deletes the user and everything keyed by them (portals, messages, cursors, outbox, requests). */
  delete(mxid: string): boolean;
}

/** Fields of a person that `update` can set. */
export interface PersonPatch {
  readonly displayName?: string | null;
  readonly avatarUrl?: string | null;
  readonly avatarEtag?: string | null;
  readonly avatarCheckedTs?: number | null;
  /** Setting presence also stamps `presenceTs`. */
  readonly presence?: string | null;
}

/** Persons and their identities. Persons are global: one per human across all linked users. */
export interface PersonRepo {
  get(personId: string): PersonRow | undefined;
  getByIdentity(identity: string): PersonRow | undefined;
  /** The person of `identity`, created (with that identity as its id) if unknown. */
  ensure(identity: string): { readonly person: PersonRow; readonly created: boolean };
  /**
   * Records that the address book says these identities are one person. Unknown identities join
   * that person; when they map to several persons, those are merged into the earliest created one
   * (its id and puppet stay): identities are re-pointed, empty profile fields filled from the others,
   * DM portals re-pointed (or dropped when the receiver already has a DM with the survivor), and
   * the merged persons' puppets retired unless the survivor had none. One transaction.
   */
  link(identities: readonly string[]): LinkResult;
  update(personId: string, patch: PersonPatch): PersonRow;
  identities(personId: string): IdentityRow[];
  /**
   * Notes that the person wrote from `identity` at `ts` (ms), for choosing where to reply. Never
   * moves the time back. Returns false for an unknown identity.
   */
  touchIdentity(identity: string, ts: number): boolean;
  /**
   * The identity to write to: the one they last wrote from; with no history, their `8:` identity;
   * else the oldest. `undefined` for an unknown person.
   */
  replyIdentity(personId: string): string | undefined;
}

/** Fields of a puppet that `upsert` can set. */
export interface PuppetPatch {
  readonly displayNameSet?: string | null;
  readonly avatarSet?: string | null;
  /** Setting it also stamps `presenceSetTs`. */
  readonly presenceSet?: string | null;
}

export interface PuppetRepo {
  get(personId: string): PuppetRow | undefined;
  getByMxid(mxid: string): PuppetRow | undefined;
  /**
   * Creates the person's puppet with `mxid` if it has none (`mxid` is ignored when it exists), then
   * applies the patch. `STORE_CONSTRAINT` when the person is unknown or the mxid belongs to another.
   */
  upsert(personId: string, mxid: string, patch?: PuppetPatch): PuppetRow;
}

/** A new portal. */
export interface NewPortal {
  readonly roomId: string;
  readonly receiver: string;
  readonly conversation: string;
  readonly kind: PortalKind;
  readonly name?: string | null;
  readonly topic?: string | null;
  readonly avatarUrl?: string | null;
  readonly encrypted?: boolean;
}

export interface PortalPatch {
  readonly name?: string | null;
  readonly topic?: string | null;
  readonly avatarUrl?: string | null;
  readonly encrypted?: boolean;
}

export interface PortalRepo {
  getByRoom(roomId: string): PortalRow | undefined;
  get(receiver: string, conversation: string): PortalRow | undefined;
  /**
   * Inserts a portal; when the receiver already has one for the conversation (or the room is taken),
   * returns that one with `inserted: false`. `STORE_CONSTRAINT` for an unknown receiver.
   */
  create(portal: NewPortal): InsertResult<PortalRow>;
  update(roomId: string, patch: PortalPatch): PortalRow;
  listByReceiver(receiver: string): PortalRow[];
  /** Removes the portal and, by cascade, its message map and outbox entries. */
  delete(roomId: string): boolean;
}

/** A new message-map row. */
export interface NewMessage {
  readonly receiver: string;
  /** The wire conversation (see {@link MessageRow.conversation}). */
  readonly conversation: string;
  readonly skypeMessageId?: string | null;
  readonly clientMessageId?: string | null;
  readonly part?: number;
  readonly roomId: string;
  readonly eventId: string;
  readonly direction: MessageDirection;
  readonly sender: string;
  readonly sentTs: number;
  readonly editOf?: number | null;
}

/** The Skype ↔ Matrix message-id map. */
export interface MessageRepo {
  /**
   * Inserts the mapping unless the same `Message-ID`, `Client-Message-ID` (per receiver,
   * conversation and part) or event id is already mapped: then `inserted: false` and the existing
   * row. Duplicates are detected by ids, never by content. `STORE_CONSTRAINT` when the room is not
   * a portal or the receiver unknown.
   */
  insert(message: NewMessage): InsertResult<MessageRow>;
  getBySkypeId(
    receiver: string,
    conversation: string,
    skypeMessageId: string,
    part?: number,
  ): MessageRow | undefined;
  getByClientId(
    receiver: string,
    conversation: string,
    clientMessageId: string,
    part?: number,
  ): MessageRow | undefined;
  getByEventId(eventId: string): MessageRow | undefined;
  /** All parts of the message `row` belongs to, by part index. */
  parts(row: MessageRow): MessageRow[];
  /** The newest edit of the message with row id `originalId`. */
  latestEdit(originalId: number): MessageRow | undefined;
  /**
   * The newest message (not an edit, first part) of room `roomId` that has a Skype `Message-ID` and
   * was sent at or before `ts` (ms): where a Matrix read receipt puts the Skype read horizon.
   */
  newestSkypeMessageAtOrBefore(roomId: string, ts: number): MessageRow | undefined;
  /**
   * The message (not an edit, first part) with the highest Skype `Message-ID` not above
   * `skypeMessageId` in the conversation (Message-IDs compared as decimal numbers): where a Skype
   * read horizon naming a message the bridge never saw lands.
   */
  newestSkypeMessageUpTo(
    receiver: string,
    conversation: string,
    skypeMessageId: string,
  ): MessageRow | undefined;
  /** Fills in the Skype `Message-ID` once learnt (e.g. from catch-up) for a message we sent. */
  setSkypeMessageId(id: number, skypeMessageId: string): MessageRow;
  /** Marks the message (all its parts) deleted. Returns false when no row has that id. */
  markDeleted(id: number): boolean;
}

/** Catch-up positions per wire conversation. */
export interface CursorRepo {
  get(receiver: string, conversation: string): string | undefined;
  /**
   * Moves the cursor to `messageId` if it is later than the stored one (Message-IDs compared as
   * decimal numbers, so pages arriving newest first never move it back). Returns whether it moved.
   */
  advance(receiver: string, conversation: string, messageId: string): boolean;
  listByReceiver(receiver: string): CursorRow[];
}

/** A new outbox entry. */
export interface NewOutboxEntry {
  readonly receiver: string;
  readonly conversation: string;
  readonly clientMessageId: string;
  readonly eventId: string;
  readonly roomId: string;
  /** Anything JSON-serialisable; `STORE_INVALID_ARGUMENT` otherwise. */
  readonly payload: unknown;
}

/** Matrix → Skype sends not yet confirmed, resent after a restart. */
export interface OutboxRepo {
  /** Queues a send; for an event already queued returns that entry with `inserted: false`. */
  enqueue(entry: NewOutboxEntry): InsertResult<OutboxRow>;
  get(id: number): OutboxRow | undefined;
  getByEventId(eventId: string): OutboxRow | undefined;
  /** The entry sending `clientMessageId` to `conversation` (one indexed lookup). */
  getByClientId(receiver: string, conversation: string, clientMessageId: string): OutboxRow | undefined;
  /** Entries in the order they were queued, for one receiver or all. */
  list(receiver?: string): OutboxRow[];
  /** Counts an attempt and keeps its error (a human-readable reason, never a secret) or clears it. */
  recordAttempt(id: number, error?: string | null): OutboxRow;
  /**
   * Removes the entry and, in the same transaction, inserts its message-map row if given, so a
   * crash never leaves a send both pending and mapped. Returns false when the entry was already gone.
   */
  complete(id: number, message?: NewMessage): boolean;
}

/** Fields of a new or updated contact request. */
export interface PendingRequestInput {
  readonly displayName?: string | null;
  readonly message?: string | null;
  readonly roomId?: string | null;
  readonly status?: PendingRequestStatus;
}

export interface PendingRequestRepo {
  get(receiver: string, mri: string): PendingRequestRow | undefined;
  /**
   * Records a request seen in the address book: inserted as `pending` the first time (`inserted:
   * true`, so the user is told once); later calls update the given fields only.
   */
  upsert(receiver: string, mri: string, fields?: PendingRequestInput): InsertResult<PendingRequestRow>;
  update(receiver: string, mri: string, fields: PendingRequestInput): PendingRequestRow;
  list(receiver: string, status?: PendingRequestStatus): PendingRequestRow[];
  delete(receiver: string, mri: string): boolean;
}

/** One event of an appservice transaction, for {@link InboxRepo.accept}. */
export interface NewInboxEvent {
  readonly eventId: string;
  readonly roomId?: string | null;
  /** The event JSON; anything JSON-serialisable (`STORE_INVALID_ARGUMENT` otherwise). */
  readonly event: unknown;
  /** Store it as already done (events the bridge never handles, kept only to recognise re-sends). */
  readonly done?: boolean;
}

/** The durable appservice inbox: events are stored before Synapse is answered, replayed until handled. */
export interface InboxRepo {
  /**
   * Stores the events of one appservice transaction in ONE SQLite transaction and returns the rows
   * of those not stored before, in the given order (an event id already present, in this or an earlier
   * transaction, is skipped: Synapse re-sends are recognised per event).
   */
  accept(txnId: string, events: readonly NewInboxEvent[]): InboxRow[];
  get(eventId: string): InboxRow | undefined;
  /**
   * Marks the event handled and drops its stored JSON. Returns false when the event is unknown or
   * was already done.
   */
  markDone(eventId: string): boolean;
  /** Events not yet done with `seq` greater than `afterSeq` (default 0), oldest first, at most `limit` (default 100). */
  pending(afterSeq?: number, limit?: number): InboxRow[];
  /** How many events are not yet done. */
  pendingCount(): number;
  /** Forgets done events that finished more than `maxAgeMs` ago. Returns how many. */
  prune(maxAgeMs: number): number;
}
