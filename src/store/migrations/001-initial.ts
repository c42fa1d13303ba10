// SPDX-License-Identifier: Apache-2.0
// v1: the initial schema. Never edit once shipped; add 002-….ts instead.
import type { Migration } from "../migrate.js";

/*
 * Conventions: timestamps are milliseconds since the epoch (INTEGER). Skype ids (Message-ID,
 * Client-Message-ID, identities) are TEXT: Client-Message-IDs are 64-bit and exceed JS numbers.
 * Every table is STRICT so a wrong type is an error, not a silent conversion.
 */
export default {
  version: 1,
  description:
    "initial schema: meta, users, persons, identities, puppets, portals, messages, cursors, outbox, as_txns, pending_requests",
  sql: `
PRAGMA application_id = 1397446978; -- "SKYB"

CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;

-- Linked Matrix users (one Skype account each).
CREATE TABLE users (
  mxid               TEXT PRIMARY KEY NOT NULL,
  management_room_id TEXT,
  account_email      TEXT,
  skype_name         TEXT,
  live_mri           TEXT,          -- "1:<e-mail>"
  skype_mri          TEXT,          -- "8:<skype name>"
  epid               TEXT,          -- MSNP endpoint id, kept so unacknowledged pushes are re-sent to us
  login_state        TEXT NOT NULL DEFAULT 'logged_out',
  state_detail       TEXT,
  refresh_token_enc  TEXT,          -- crypto.ts "v1:…" blob, never clear text
  contact_sync_state TEXT,          -- JSON
  created_ts         INTEGER NOT NULL,
  updated_ts         INTEGER NOT NULL
) STRICT;
CREATE INDEX users_live_mri ON users (live_mri) WHERE live_mri IS NOT NULL;
CREATE INDEX users_skype_mri ON users (skype_mri) WHERE skype_mri IS NOT NULL;

-- Skype people, global to the bridge (one puppet per person). The id is the identity the person was
-- first seen with and never changes; a merge keeps the earlier person.
CREATE TABLE persons (
  id           TEXT PRIMARY KEY NOT NULL,
  display_name TEXT,
  avatar_url   TEXT,
  presence     TEXT,
  presence_ts  INTEGER,
  created_ts   INTEGER NOT NULL,
  updated_ts   INTEGER NOT NULL
) STRICT;

CREATE TABLE identities (
  identity     TEXT PRIMARY KEY NOT NULL,       -- "1:…" / "8:…" exactly as on the wire
  person_id    TEXT NOT NULL REFERENCES persons (id) ON DELETE CASCADE ON UPDATE CASCADE,
  last_used_ts INTEGER,                          -- last time the person wrote from this identity
  created_ts   INTEGER NOT NULL
) STRICT;
CREATE INDEX identities_person ON identities (person_id);

CREATE TABLE puppets (
  person_id       TEXT PRIMARY KEY NOT NULL REFERENCES persons (id) ON DELETE CASCADE ON UPDATE CASCADE,
  mxid            TEXT NOT NULL UNIQUE,
  display_name_set TEXT,
  avatar_set      TEXT,
  presence_set    TEXT,
  presence_set_ts INTEGER,
  created_ts      INTEGER NOT NULL,
  updated_ts      INTEGER NOT NULL
) STRICT;

-- Matrix rooms bridged to a Skype conversation for one linked user (the receiver).
CREATE TABLE portals (
  room_id      TEXT PRIMARY KEY NOT NULL,
  receiver     TEXT NOT NULL REFERENCES users (mxid) ON DELETE CASCADE,
  conversation TEXT NOT NULL,                   -- person id (dm) or "19:…@thread.skype" (group)
  kind         TEXT NOT NULL CHECK (kind IN ('dm', 'group')),
  name         TEXT,
  topic        TEXT,
  avatar_url   TEXT,
  encrypted    INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
  created_ts   INTEGER NOT NULL,
  updated_ts   INTEGER NOT NULL,
  UNIQUE (receiver, conversation)
) STRICT;

-- Skype message <-> Matrix event map. conversation is the wire conversation (the other party's
-- identity exactly as on the wire, or the thread id): the key of Message-IDs and catch-up.
CREATE TABLE messages (
  id                INTEGER PRIMARY KEY,
  receiver          TEXT NOT NULL REFERENCES users (mxid) ON DELETE CASCADE,
  conversation      TEXT NOT NULL,
  skype_message_id  TEXT,
  client_message_id TEXT,
  part              INTEGER NOT NULL DEFAULT 0 CHECK (part >= 0),
  room_id           TEXT NOT NULL REFERENCES portals (room_id) ON DELETE CASCADE,
  event_id          TEXT NOT NULL UNIQUE,
  direction         TEXT NOT NULL CHECK (direction IN ('to_matrix', 'to_skype')),
  sender            TEXT NOT NULL,
  sent_ts           INTEGER NOT NULL,
  edit_of           INTEGER REFERENCES messages (id) ON DELETE CASCADE,
  deleted           INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  created_ts        INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX messages_skype_id ON messages (receiver, conversation, skype_message_id, part)
  WHERE skype_message_id IS NOT NULL;
CREATE UNIQUE INDEX messages_client_id ON messages (receiver, conversation, client_message_id, part)
  WHERE client_message_id IS NOT NULL;
CREATE INDEX messages_edit_of ON messages (edit_of) WHERE edit_of IS NOT NULL;
CREATE INDEX messages_room ON messages (room_id, sent_ts);

-- Last Skype Message-ID seen per wire conversation, for catch-up after a reconnect.
CREATE TABLE cursors (
  receiver        TEXT NOT NULL REFERENCES users (mxid) ON DELETE CASCADE,
  conversation    TEXT NOT NULL,
  last_message_id TEXT NOT NULL,
  updated_ts      INTEGER NOT NULL,
  PRIMARY KEY (receiver, conversation)
) STRICT, WITHOUT ROWID;

-- Matrix -> Skype sends not yet confirmed; resent after a restart.
CREATE TABLE outbox (
  id                INTEGER PRIMARY KEY,
  receiver          TEXT NOT NULL REFERENCES users (mxid) ON DELETE CASCADE,
  conversation      TEXT NOT NULL,
  client_message_id TEXT NOT NULL,
  event_id          TEXT NOT NULL UNIQUE,
  room_id           TEXT NOT NULL REFERENCES portals (room_id) ON DELETE CASCADE,
  payload           TEXT NOT NULL,            -- JSON
  attempts          INTEGER NOT NULL DEFAULT 0,
  last_error        TEXT,
  last_attempt_ts   INTEGER,
  created_ts        INTEGER NOT NULL,
  UNIQUE (receiver, conversation, client_message_id)
) STRICT;
CREATE INDEX outbox_receiver ON outbox (receiver, id);

-- Appservice transaction ids already handled (Synapse retries a transaction until it gets 200).
CREATE TABLE as_txns (
  txn_id       TEXT PRIMARY KEY NOT NULL,
  processed_ts INTEGER NOT NULL
) STRICT;
CREATE INDEX as_txns_processed ON as_txns (processed_ts);

-- Incoming contact requests shown to a linked user.
CREATE TABLE pending_requests (
  id           INTEGER PRIMARY KEY,
  receiver     TEXT NOT NULL REFERENCES users (mxid) ON DELETE CASCADE,
  mri          TEXT NOT NULL,
  display_name TEXT,
  message      TEXT,
  room_id      TEXT,
  status       TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'accepted', 'declined', 'blocked', 'withdrawn')),
  created_ts   INTEGER NOT NULL,
  updated_ts   INTEGER NOT NULL,
  UNIQUE (receiver, mri)
) STRICT;
`,
} satisfies Migration;
