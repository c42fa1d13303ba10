// SPDX-License-Identifier: Apache-2.0
/**
 * The `persons` and `identities` tables. Persons are global to the bridge (one puppet per human
 * across all linked users); each identity (`1:…`, `8:…`) maps to exactly one person. When the address
 * book says two identities are one person, their persons are merged into the earliest one.
 */
import { type Db, transaction } from "../db.js";
import { StoreError, StoreErrorCode } from "../errors.js";
import type { IdentityRow, LinkResult, PersonMerge, PersonPatch, PersonRepo, PersonRow } from "../types.js";
import { type RawPortal, toPortal } from "./portals-repo.js";
import { type Clock, checkIdentity, checkInt, found, patchParams, patchSql } from "./sql.js";

interface RawPerson {
  id: string;
  display_name: string | null;
  avatar_url: string | null;
  avatar_etag: string | null;
  avatar_checked_ts: number | null;
  presence: string | null;
  presence_ts: number | null;
  created_ts: number;
  updated_ts: number;
}

interface RawIdentity {
  identity: string;
  person_id: string;
  last_used_ts: number | null;
  created_ts: number;
}

const PATCH_FIELDS = {
  displayName: "display_name",
  avatarUrl: "avatar_url",
  avatarEtag: "avatar_etag",
  avatarCheckedTs: "avatar_checked_ts",
  presence: "presence",
  presenceTs: "presence_ts",
} as const;

export class SqlitePersonRepo implements PersonRepo {
  readonly #get;
  readonly #byIdentity;
  readonly #insertPerson;
  readonly #insertIdentity;
  readonly #patch;
  readonly #identities;
  readonly #touch;
  readonly #reply;
  readonly #oldest;
  readonly #merge;

  constructor(
    private readonly db: Db,
    private readonly now: Clock,
  ) {
    this.#get = db.prepare<[string], RawPerson>("SELECT * FROM persons WHERE id = ?");
    this.#byIdentity = db.prepare<[string], RawPerson>(
      "SELECT p.* FROM identities i JOIN persons p ON p.id = i.person_id WHERE i.identity = ?",
    );
    this.#insertPerson = db.prepare<[string, number, number]>(
      "INSERT INTO persons (id, created_ts, updated_ts) VALUES (?, ?, ?)",
    );
    this.#insertIdentity = db.prepare<[string, string, number]>(
      "INSERT INTO identities (identity, person_id, created_ts) VALUES (?, ?, ?)",
    );
    this.#patch = db.prepare<Record<string, unknown>, RawPerson>(
      patchSql("persons", "id = @key", PATCH_FIELDS),
    );
    this.#identities = db.prepare<[string], RawIdentity>(
      "SELECT * FROM identities WHERE person_id = ? ORDER BY created_ts, identity",
    );
    this.#touch = db.prepare<[number, string]>(
      "UPDATE identities SET last_used_ts = max(coalesce(last_used_ts, 0), ?) WHERE identity = ?",
    );
    this.#reply = db
      .prepare<[string], string>(
        `SELECT identity FROM identities WHERE person_id = ?
         ORDER BY last_used_ts IS NULL, last_used_ts DESC, identity LIKE '8:%' DESC, created_ts, identity LIMIT 1`,
      )
      .pluck();
    this.#oldest = db.prepare<[string], RawPerson>(
      "SELECT * FROM persons WHERE id IN (SELECT value FROM json_each(?)) ORDER BY created_ts, rowid",
    );
    this.#merge = new PersonMerger(db);
  }

  get(personId: string): PersonRow | undefined {
    const raw = this.#get.get(personId);
    return raw && toPerson(raw);
  }

  getByIdentity(identity: string): PersonRow | undefined {
    const raw = this.#byIdentity.get(identity);
    return raw && toPerson(raw);
  }

  ensure(identity: string): { readonly person: PersonRow; readonly created: boolean } {
    checkIdentity(identity);
    return transaction(this.db, () => {
      const existing = this.getByIdentity(identity);
      if (existing) return { person: existing, created: false };
      return { person: this.#create(identity), created: true };
    });
  }

  link(identities: readonly string[]): LinkResult {
    const ids = [...new Set(identities.map(checkIdentity))];
    if (ids.length === 0)
      throw new StoreError(StoreErrorCode.InvalidArgument, "link needs at least one identity");
    // Already one person (each session links its user's own identities at every connect): answered
    // with reads only, without a write transaction and its commit.
    const first = this.#byIdentity.get(ids[0]!);
    if (first && ids.every((id, i) => i === 0 || this.#byIdentity.get(id)?.id === first.id)) {
      return { person: toPerson(first), created: false, merged: [] };
    }
    return transaction(this.db, () => {
      const known = new Set<string>();
      for (const id of ids) {
        const p = this.#byIdentity.get(id);
        if (p) known.add(p.id);
      }
      const created = known.size === 0;
      const [survivor, ...others] = created ? [] : this.#oldest.all(JSON.stringify([...known]));
      const personId = survivor?.id ?? this.#create(ids[0]!).id;
      const merged = others.map((loser) => this.#merge.merge(personId, loser.id, this.now()));
      const now = this.now();
      for (const id of ids) {
        if (!this.#byIdentity.get(id)) this.#insertIdentity.run(id, personId, now);
      }
      return { person: found(this.get(personId), "the person"), created, merged };
    });
  }

  update(personId: string, patch: PersonPatch): PersonRow {
    const now = this.now();
    const presenceTs = patch.presence === undefined ? undefined : patch.presence === null ? null : now;
    const params = patchParams({ ...patch, presenceTs }, PATCH_FIELDS);
    return toPerson(found(this.#patch.get({ ...params, key: personId, now }), "the person"));
  }

  identities(personId: string): IdentityRow[] {
    return this.#identities.all(personId).map((r) => ({
      identity: r.identity,
      personId: r.person_id,
      lastUsedTs: r.last_used_ts,
      createdTs: r.created_ts,
    }));
  }

  touchIdentity(identity: string, ts: number): boolean {
    return this.#touch.run(checkInt(ts, "ts"), identity).changes > 0;
  }

  replyIdentity(personId: string): string | undefined {
    return this.#reply.get(personId);
  }

  #create(identity: string): PersonRow {
    const now = this.now();
    this.#insertPerson.run(identity, now, now);
    this.#insertIdentity.run(identity, identity, now);
    return found(this.get(identity), "the person");
  }
}

/** Folds one person into another (inside the caller's transaction). */
class PersonMerger {
  readonly #identities;
  readonly #profile;
  readonly #puppet;
  readonly #deletePuppet;
  readonly #movePuppet;
  readonly #dmPortals;
  readonly #hasPortal;
  readonly #deletePortal;
  readonly #movePortal;
  readonly #deletePerson;

  constructor(db: Db) {
    this.#identities = db.prepare<[string, string]>(
      "UPDATE identities SET person_id = ? WHERE person_id = ?",
    );
    this.#profile = db.prepare<{ s: string; l: string; now: number }>(
      `UPDATE persons SET
         display_name = coalesce(display_name, (SELECT display_name FROM persons WHERE id = @l)),
         avatar_etag = CASE WHEN avatar_url IS NULL THEN (SELECT avatar_etag FROM persons WHERE id = @l) ELSE avatar_etag END,
         avatar_url = coalesce(avatar_url, (SELECT avatar_url FROM persons WHERE id = @l)),
         presence_ts = CASE WHEN presence IS NULL THEN (SELECT presence_ts FROM persons WHERE id = @l) ELSE presence_ts END,
         presence = coalesce(presence, (SELECT presence FROM persons WHERE id = @l)),
         updated_ts = @now
       WHERE id = @s`,
    );
    this.#puppet = db.prepare<[string], string>("SELECT mxid FROM puppets WHERE person_id = ?").pluck();
    this.#deletePuppet = db.prepare<[string]>("DELETE FROM puppets WHERE person_id = ?");
    this.#movePuppet = db.prepare<[number, string, string]>(
      "UPDATE puppets SET updated_ts = ?, person_id = ? WHERE person_id = ?",
    );
    this.#dmPortals = db.prepare<[string], RawPortal>(
      "SELECT * FROM portals WHERE conversation = ? AND kind = 'dm' ORDER BY created_ts, room_id",
    );
    this.#hasPortal = db
      .prepare<[string, string], number>("SELECT 1 FROM portals WHERE receiver = ? AND conversation = ?")
      .pluck();
    this.#deletePortal = db.prepare<[string]>("DELETE FROM portals WHERE room_id = ?");
    this.#movePortal = db.prepare<[string, number, string]>(
      "UPDATE portals SET conversation = ?, updated_ts = ? WHERE room_id = ?",
    );
    this.#deletePerson = db.prepare<[string]>("DELETE FROM persons WHERE id = ?");
  }

  merge(survivor: string, loser: string, now: number): PersonMerge {
    this.#identities.run(survivor, loser);
    this.#profile.run({ s: survivor, l: loser, now });
    let retiredPuppetMxid: string | null = null;
    const loserPuppet = this.#puppet.get(loser);
    if (loserPuppet !== undefined) {
      if (this.#puppet.get(survivor) !== undefined) {
        this.#deletePuppet.run(loser);
        retiredPuppetMxid = loserPuppet;
      } else {
        this.#movePuppet.run(now, survivor, loser);
      }
    }
    const droppedPortals = [];
    for (const raw of this.#dmPortals.all(loser)) {
      if (this.#hasPortal.get(raw.receiver, survivor) !== undefined) {
        this.#deletePortal.run(raw.room_id);
        droppedPortals.push(toPortal(raw));
      } else {
        this.#movePortal.run(survivor, now, raw.room_id);
      }
    }
    this.#deletePerson.run(loser);
    return { personId: loser, retiredPuppetMxid, droppedPortals };
  }
}

function toPerson(r: RawPerson): PersonRow {
  return {
    id: r.id,
    displayName: r.display_name,
    avatarUrl: r.avatar_url,
    avatarEtag: r.avatar_etag,
    avatarCheckedTs: r.avatar_checked_ts,
    presence: r.presence,
    presenceTs: r.presence_ts,
    createdTs: r.created_ts,
    updatedTs: r.updated_ts,
  };
}
