// SPDX-License-Identifier: Apache-2.0
/** The `puppets` table: each person's Matrix ghost and what was last set on its profile. */
import { type Db, transaction } from "../db.js";
import type { PuppetPatch, PuppetRepo, PuppetRow } from "../types.js";
import { type Clock, checkText, found, patchParams, patchSql } from "./sql.js";

interface RawPuppet {
  person_id: string;
  mxid: string;
  display_name_set: string | null;
  avatar_set: string | null;
  presence_set: string | null;
  presence_set_ts: number | null;
  created_ts: number;
  updated_ts: number;
}

const PATCH_FIELDS = {
  displayNameSet: "display_name_set",
  avatarSet: "avatar_set",
  presenceSet: "presence_set",
  presenceSetTs: "presence_set_ts",
} as const;

export class SqlitePuppetRepo implements PuppetRepo {
  readonly #get;
  readonly #byMxid;
  readonly #insert;
  readonly #patch;

  constructor(
    private readonly db: Db,
    private readonly now: Clock,
  ) {
    this.#get = db.prepare<[string], RawPuppet>("SELECT * FROM puppets WHERE person_id = ?");
    this.#byMxid = db.prepare<[string], RawPuppet>("SELECT * FROM puppets WHERE mxid = ?");
    this.#insert = db.prepare<[string, string, number, number]>(
      "INSERT INTO puppets (person_id, mxid, created_ts, updated_ts) VALUES (?, ?, ?, ?) ON CONFLICT (person_id) DO NOTHING",
    );
    this.#patch = db.prepare<Record<string, unknown>, RawPuppet>(
      patchSql("puppets", "person_id = @key", PATCH_FIELDS),
    );
  }

  get(personId: string): PuppetRow | undefined {
    const raw = this.#get.get(personId);
    return raw && toPuppet(raw);
  }

  getByMxid(mxid: string): PuppetRow | undefined {
    const raw = this.#byMxid.get(mxid);
    return raw && toPuppet(raw);
  }

  upsert(personId: string, mxid: string, patch: PuppetPatch = {}): PuppetRow {
    checkText(personId, "personId");
    checkText(mxid, "mxid");
    return transaction(this.db, () => {
      const now = this.now();
      const presenceSetTs =
        patch.presenceSet === undefined ? undefined : patch.presenceSet === null ? null : now;
      this.#insert.run(personId, mxid, now, now);
      const params = patchParams({ ...patch, presenceSetTs }, PATCH_FIELDS);
      return toPuppet(found(this.#patch.get({ ...params, key: personId, now }), "the puppet"));
    });
  }
}

function toPuppet(r: RawPuppet): PuppetRow {
  return {
    personId: r.person_id,
    mxid: r.mxid,
    displayNameSet: r.display_name_set,
    avatarSet: r.avatar_set,
    presenceSet: r.presence_set,
    presenceSetTs: r.presence_set_ts,
    createdTs: r.created_ts,
    updatedTs: r.updated_ts,
  };
}
