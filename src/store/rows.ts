// SPDX-License-Identifier: Apache-2.0
/**
 * Row types of the store: what the repositories return. Timestamps are milliseconds since the epoch.
 * Skype ids are strings exactly as on the wire (Client-Message-IDs exceed JS numbers).
 */

/** A linked Matrix user. The refresh token is never part of a row: see `UserRepo.getRefreshToken`. */
export interface UserRow {
  readonly mxid: string;
  readonly managementRoomId: string | null;
  /** The Microsoft account e-mail the user signed in with. */
  readonly accountEmail: string | null;
  /** The Skype name (e.g. `live:alice_1`). */
  readonly skypeName: string | null;
  /** The user's own `1:` identity. */
  readonly liveMri: string | null;
  /** The user's own `8:` identity. */
  readonly skypeMri: string | null;
  /** The MSNP endpoint id of this user's connection, kept across restarts. */
  readonly epid: string | null;
  /** Session state name (`logged_out`, `connecting`, `connected`, `transient_disconnect`, `bad_credentials`, …). */
  readonly loginState: string;
  /** A human-readable detail of the state (never a secret). */
  readonly stateDetail: string | null;
  /** Whether an encrypted refresh token is stored. */
  readonly hasRefreshToken: boolean;
  /**
   * Contact-sync bookkeeping (sync keys, cache keys, the contact list), as JSON written by the
   * session. Read from the store when first asked for (it is most of a user's data and kept apart).
   */
  readonly contactSyncState: unknown;
  readonly createdTs: number;
  readonly updatedTs: number;
}

/** A Skype person, global to the bridge (one puppet per person across all linked users). */
export interface PersonRow {
  /**
   * Stable id: the identity the person was first seen with. It stays one of the person's identities
   * (merges keep the earlier person), but callers should treat it as opaque.
   */
  readonly id: string;
  readonly displayName: string | null;
  /** The person's avatar as uploaded to the media repository (`mxc://…`). */
  readonly avatarUrl: string | null;
  /** The Skype ETag of the avatar `avatarUrl` was uploaded from (PROFILE §7.6). */
  readonly avatarEtag: string | null;
  /** When the bridge last asked Skype for this person's avatar (ms), or null if never. */
  readonly avatarCheckedTs: number | null;
  /** Last presence seen (`NLN`, `BSY`, `AWY`, `IDL`, `HDN`, `offline`, …). */
  readonly presence: string | null;
  readonly presenceTs: number | null;
  readonly createdTs: number;
  readonly updatedTs: number;
}

/** One identity (`1:…`, `8:…`) of a person. */
export interface IdentityRow {
  readonly identity: string;
  readonly personId: string;
  /** When the person last wrote from this identity (null: never seen writing). */
  readonly lastUsedTs: number | null;
  readonly createdTs: number;
}

/** The Matrix ghost of a person, with what was last set on it (to skip needless profile updates). */
export interface PuppetRow {
  readonly personId: string;
  readonly mxid: string;
  readonly displayNameSet: string | null;
  readonly avatarSet: string | null;
  readonly presenceSet: string | null;
  readonly presenceSetTs: number | null;
  readonly createdTs: number;
  readonly updatedTs: number;
}

export type PortalKind = "dm" | "group";

/** A Matrix room bridged to a Skype conversation for one linked user (the receiver). */
export interface PortalRow {
  readonly roomId: string;
  /** The linked user's mxid. */
  readonly receiver: string;
  /** A person id for a DM, a `19:…@thread.skype` thread id for a group. */
  readonly conversation: string;
  readonly kind: PortalKind;
  readonly name: string | null;
  readonly topic: string | null;
  readonly avatarUrl: string | null;
  readonly encrypted: boolean;
  readonly createdTs: number;
  readonly updatedTs: number;
}

export type MessageDirection = "to_matrix" | "to_skype";

/** One Skype message (or one part of it) ↔ one Matrix event. */
export interface MessageRow {
  /** Row id (used by `editOf`). */
  readonly id: number;
  readonly receiver: string;
  /**
   * The wire conversation: the other party's identity exactly as on the wire (`8:live:bob_1`) for
   * 1:1, the thread id for groups. Not the person id: Message-IDs and catch-up are per wire conversation.
   */
  readonly conversation: string;
  /** Skype `Message-ID` (server id); null until known for messages we sent. */
  readonly skypeMessageId: string | null;
  /** Skype `Client-Message-ID`. */
  readonly clientMessageId: string | null;
  /** Part index when one Skype message became several Matrix events (0 = the primary part). */
  readonly part: number;
  readonly roomId: string;
  readonly eventId: string;
  readonly direction: MessageDirection;
  /** The Skype identity (to_matrix) or Matrix mxid (to_skype) that sent it. */
  readonly sender: string;
  /** When it was sent (Skype arrival time or Matrix `origin_server_ts`). */
  readonly sentTs: number;
  /** Row id of the original message when this row is an edit of it. */
  readonly editOf: number | null;
  readonly deleted: boolean;
  readonly createdTs: number;
}

/** Catch-up position of one wire conversation. */
export interface CursorRow {
  readonly receiver: string;
  readonly conversation: string;
  readonly lastMessageId: string;
  readonly updatedTs: number;
}

/** A Matrix → Skype send not yet confirmed. */
export interface OutboxRow {
  readonly id: number;
  readonly receiver: string;
  /** The wire conversation it goes to. */
  readonly conversation: string;
  readonly clientMessageId: string;
  readonly eventId: string;
  readonly roomId: string;
  /** What to send, as given to `enqueue` (parsed JSON). */
  readonly payload: unknown;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly lastAttemptTs: number | null;
  readonly createdTs: number;
}

export type PendingRequestStatus = "pending" | "accepted" | "declined" | "blocked" | "withdrawn";

/** An incoming contact request shown to a linked user. */
export interface PendingRequestRow {
  readonly id: number;
  readonly receiver: string;
  /** The requester's identity (an MRI, or whatever the address book names them by). */
  readonly mri: string;
  readonly displayName: string | null;
  /** The invitation text. */
  readonly message: string | null;
  /** The room the request was shown in, if any. */
  readonly roomId: string | null;
  readonly status: PendingRequestStatus;
  readonly createdTs: number;
  readonly updatedTs: number;
}

/** Result of an insert that may meet an existing row. */
export type InsertResult<R> =
  | { readonly inserted: true; readonly row: R }
  /** `row` is the existing row that the new one collided with. */
  | { readonly inserted: false; readonly row: R };

/** What a merge of persons did, for the bridge to clean up Matrix-side. */
export interface PersonMerge {
  /** The person that was merged away (deleted). */
  readonly personId: string;
  /** Its puppet's mxid when that puppet was retired (the survivor already had one). */
  readonly retiredPuppetMxid: string | null;
  /**
   * DM portals of the merged person whose receiver already had a DM with the survivor: removed
   * (with their message map), for the bridge to retire the rooms. Other DM portals were re-pointed.
   */
  readonly droppedPortals: readonly PortalRow[];
}

/** Result of `PersonRepo.link`. */
export interface LinkResult {
  /** The one person all the identities now map to. */
  readonly person: PersonRow;
  /** True when no identity was known and a person was created. */
  readonly created: boolean;
  /** Persons merged into `person`, oldest first. */
  readonly merged: readonly PersonMerge[];
}

/** A Matrix event received from the homeserver, kept until its handler finished. */
export interface InboxRow {
  /** Arrival order (replay order). */
  readonly seq: number;
  readonly eventId: string;
  /** The appservice transaction that first brought it. */
  readonly txnId: string;
  readonly roomId: string | null;
  /** The event as received (parsed JSON); `null` once done (done rows keep only their id). */
  readonly event: unknown;
  readonly receivedTs: number;
  /** When its handler finished; `null` while it still has to be handled (or replayed). */
  readonly doneTs: number | null;
}
