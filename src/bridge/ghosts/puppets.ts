// SPDX-License-Identifier: Apache-2.0
/**
 * Puppets ("ghosts"): one Matrix user per Skype person. A contact's `1:` and `8:` identities are one
 * person (the address book says so; `persons.link` on every contacts sync), so they share one
 * puppet. The puppet's display name comes from the contact list (or the sender's `IM-Display-Name`
 * for people not in it) through `puppets.display_name_template`; it is set before the puppet first
 * joins a room and changed only on a real change (matrix-conventions §7.2). Presence is in
 * presence.ts. The user's own Skype identities are one more person: their own puppet, which speaks
 * for what they send from another Skype endpoint.
 */
import { createHash } from "node:crypto";
import { parseMri, type Contact } from "../../skype/model.js";
import type { PersonMerge, PersonRow } from "../../store/types.js";
import { Logger, errorText } from "../../util/logger.js";
import { KeyedQueue } from "../../util/keyed-queue.js";
import type { Bridge } from "../bridge.js";
import type { LinkedUser } from "../user/linked-users.js";
import { displayName, puppetMxid } from "./ids.js";
import { PuppetPresence } from "./presence.js";

const log = new Logger("bridge.puppets");

/** Display name template of the user's own puppet in their portals (messages from other endpoints). */
export const SELF_NAME_TEMPLATE = "{name} (you, on Skype)";

/** A puppet ready to act: registered, with its display name set. */
export interface PuppetInfo {
  personId: string;
  mxid: string;
  displayName: string;
}

/** Options of {@link Puppets}. */
export interface PuppetsOptions {
  /** How often non-offline presence is re-sent (Synapse drops it after ~30 s without). Default 25 s. */
  presenceRefreshMs?: number;
  /** Presence writes in flight at most (a refresh round or a burst of changes). Default 8. */
  presenceConcurrency?: number;
  /** How long a dropped Skype connection's last presence still stands. Default 60 s. */
  presenceStaleAfterMs?: number;
}

/** What to show when a person has no name: their Skype name or e-mail. */
export function fallbackName(identity: string): string {
  return parseMri(identity)?.account ?? identity;
}

type RenameListener = (personId: string, displayName: string) => Promise<void> | void;
type MergeListener = (survivor: PersonRow, merge: PersonMerge) => Promise<void> | void;

/**
 * A digest of a contact list as read (order included: the same read gives the same order) and of
 * the template its names are shown with.
 */
function listDigest(contacts: readonly Contact[], nameTemplate: string): string {
  return createHash("sha256")
    .update(nameTemplate)
    .update("\n")
    .update(JSON.stringify(contacts))
    .digest("base64");
}

/** `meta` key of the digest of the contact list last applied for a linked user. */
const appliedListKey = (mxid: string): string => `puppets.contacts_applied|${mxid}`;

/** Owns every puppet's profile; `presence` mirrors Skype presence on them. */
export class Puppets {
  readonly presence: PuppetPresence;
  private readonly serial = new KeyedQueue();
  private readonly renameListeners: RenameListener[] = [];
  private readonly mergeListeners: MergeListener[] = [];
  /** Per linked user, the digest of the contact list last applied without a failure. */
  private readonly appliedLists = new Map<string, string>();
  /** Per linked user, the list object last applied (or found applied) without a failure. */
  private readonly appliedObjects = new Map<string, readonly Contact[]>();

  constructor(
    private readonly ctx: Bridge,
    opts: PuppetsOptions = {},
  ) {
    this.presence = new PuppetPresence(ctx, this, {
      refreshMs: opts.presenceRefreshMs ?? 25_000,
      concurrency: Math.max(1, opts.presenceConcurrency ?? 8),
      staleAfterMs: opts.presenceStaleAfterMs ?? 60_000,
    });
  }

  /** Calls `listener` when a puppet's display name changed (not for the first one). */
  onRenamed(listener: RenameListener): void {
    this.renameListeners.push(listener);
  }

  /** Calls `listener` for every person merged away by a contacts sync. */
  onMerged(listener: MergeListener): void {
    this.mergeListeners.push(listener);
  }

  /** The person of `identity` (or person id), created when unknown. */
  personFor(identity: string): PersonRow {
    const { persons } = this.ctx.store;
    return persons.getByIdentity(identity) ?? persons.get(identity) ?? persons.ensure(identity).person;
  }

  /** The puppet MXID of a person (the stored one, else the one the template gives). */
  mxidOf(personId: string): string {
    const row = this.ctx.store.puppets.get(personId);
    if (row) return row.mxid;
    const { config } = this.ctx;
    return puppetMxid(config.puppets.localpart_template, personId, config.homeserver.domain);
  }

  /** The display name a person's puppet should have. */
  nameOf(person: PersonRow): string {
    return displayName(
      this.ctx.config.puppets.display_name_template,
      person.displayName ?? "",
      fallbackName(person.id),
    );
  }

  /**
   * Makes sure the puppet of `identity` exists, is registered and carries its display name. `hint`
   * names a person the contact list does not know (the sender's `IM-Display-Name`); it never
   * overrides a name from the contact list. Network I/O; throws on Matrix or store failures.
   */
  async ensure(identity: string, hint: { displayName?: string } = {}): Promise<PuppetInfo> {
    const person = this.noteName(identity, hint.displayName);
    return this.serial.run(person.id, () => this.ensureNow(person.id));
  }

  /**
   * Records `name` (e.g. a sender's `IM-Display-Name`) as the person's name when the contact list
   * gave none, so that a puppet or room created next already carries it. Returns the person.
   */
  noteName(identity: string, name: string | undefined): PersonRow {
    const person = this.personFor(identity);
    const hinted = name?.trim();
    if (!hinted || person.displayName) return person;
    return this.ctx.store.persons.update(person.id, { displayName: hinted });
  }

  private async ensureNow(personId: string): Promise<PuppetInfo> {
    const { store } = this.ctx;
    const person = store.persons.get(personId) ?? this.personFor(personId);
    const row = store.puppets.get(person.id) ?? store.puppets.upsert(person.id, this.mxidOf(person.id));
    const wanted = this.nameOf(person);
    // A puppet whose name was set was registered then (in this run or an earlier one): asking
    // Synapse again at every start cost a request and an M_USER_IN_USE error line per puppet.
    if (row.displayNameSet === null) await this.ctx.matrix.register(row.mxid);
    else this.ctx.matrix.assumeRegistered(row.mxid);
    if (row.displayNameSet !== wanted) {
      await this.ctx.matrix.setDisplayName(row.mxid, wanted);
      store.puppets.upsert(person.id, row.mxid, { displayNameSet: wanted });
      if (row.displayNameSet !== null) await this.emitRenamed(person.id, wanted);
    }
    // The person's avatar (avatars.ts keeps it), set on the puppet when it differs ("" clears it).
    const avatar = person.avatarUrl ?? "";
    if ((row.avatarSet ?? "") !== avatar) {
      await this.ctx.matrix.setAvatarUrl(row.mxid, avatar);
      store.puppets.upsert(person.id, row.mxid, { avatarSet: avatar === "" ? null : avatar });
    }
    return { personId: person.id, mxid: row.mxid, displayName: wanted };
  }

  private async emitRenamed(personId: string, name: string): Promise<void> {
    for (const l of this.renameListeners) {
      try {
        await l(personId, name);
      } catch (e) {
        log.warn("a rename listener failed", { person: personId, error: errorText(e) });
      }
    }
  }

  /**
   * Applies a contacts sync: links each contact's identities into one person, takes the contact
   * list's display name, and updates existing puppets whose name changed. Puppets are otherwise
   * created lazily (first message, presence). The store work is one transaction for the whole
   * list (one commit instead of one or two per contact at every connect), each contact in a
   * savepoint of its own so that a bad one undoes nothing else; a contact already stored as it is
   * writes nothing. Never throws; per-contact failures are logged.
   *
   * With `owner` (the linked user whose list it is), a list equal to the one last applied for that
   * owner without a failure is skipped: every reconnect and every restart re-reads the contacts
   * (changes made while away must not be missed), and after a server outage or a restart that is
   * every user's list at once, nearly always unchanged. Applying it again would only re-check each
   * contact (and set back a name another user's list gave the same person since). The digest is
   * kept in `meta` (so a restart skips too) and covers the puppet name template, so a changed
   * template still renames every puppet.
   */
  async syncContacts(contacts: readonly Contact[], owner?: string): Promise<void> {
    // The very list object applied last (a session hands the same frozen list while it is unchanged).
    if (owner !== undefined && this.appliedObjects.get(owner) === contacts) return;
    const digest =
      owner === undefined ? undefined : listDigest(contacts, this.ctx.config.puppets.display_name_template);
    if (owner !== undefined && this.appliedList(owner) === digest) {
      this.appliedObjects.set(owner, contacts);
      return;
    }
    const applied: { contact: Contact; person: PersonRow; merged: readonly PersonMerge[] }[] = [];
    const { store } = this.ctx;
    let failed = false;
    try {
      store.transaction(() => {
        for (const contact of contacts) {
          if (!Array.isArray(contact.identities) || contact.identities.length === 0) continue;
          try {
            applied.push({ contact, ...store.transaction(() => this.applyContact(contact)) });
          } catch (e) {
            failed = true;
            log.warn("could not apply a contact", { identities: contact.identities, error: errorText(e) });
          }
        }
      });
    } catch (e) {
      log.warn("could not apply the contact list", { contacts: contacts.length, error: errorText(e) });
      return;
    }
    for (const { contact, person, merged } of applied) {
      try {
        for (const merge of merged) await this.emitMerged(person, merge);
        if (store.puppets.get(person.id)) await this.ensure(person.id);
      } catch (e) {
        failed = true;
        log.warn("could not apply a contact", { identities: contact.identities, error: errorText(e) });
      }
    }
    // A list with a failure is applied again next time, which retries what failed.
    if (owner !== undefined && digest !== undefined && !failed) {
      this.rememberApplied(owner, digest);
      this.appliedObjects.set(owner, contacts);
    }
  }

  private appliedList(owner: string): string | undefined {
    const known = this.appliedLists.get(owner);
    if (known !== undefined) return known;
    try {
      return this.ctx.store.meta.get(appliedListKey(owner));
    } catch (e) {
      log.warn("could not read which contact list was applied last", { user: owner, error: errorText(e) });
      return undefined;
    }
  }

  private rememberApplied(owner: string, digest: string): void {
    this.appliedLists.set(owner, digest);
    try {
      this.ctx.store.meta.set(appliedListKey(owner), digest);
    } catch (e) {
      log.warn("could not store which contact list was applied", { user: owner, error: errorText(e) });
    }
  }

  /** Links one contact's identities and takes its name (inside the caller's transaction). */
  private applyContact(contact: Contact): { person: PersonRow; merged: readonly PersonMerge[] } {
    const { persons } = this.ctx.store;
    const name = typeof contact.displayName === "string" ? contact.displayName.trim() : "";
    const known = persons.getByIdentity(contact.identities[0]!);
    if (
      known &&
      (name === "" || known.displayName === name) &&
      contact.identities.every(
        (id) => id === contact.identities[0] || persons.getByIdentity(id)?.id === known.id,
      )
    ) {
      return { person: known, merged: [] };
    }
    const linked = persons.link(contact.identities);
    const person =
      name !== "" && linked.person.displayName !== name
        ? persons.update(linked.person.id, { displayName: name })
        : linked.person;
    return { person, merged: linked.merged };
  }

  private async emitMerged(survivor: PersonRow, merge: PersonMerge): Promise<void> {
    log.info("two Skype identities turned out to be one person; merged", {
      person: survivor.id,
      merged: merge.personId,
    });
    for (const l of this.mergeListeners) {
      try {
        await l(survivor, merge);
      } catch (e) {
        log.warn("a merge listener failed", { person: survivor.id, error: errorText(e) });
      }
    }
  }

  /** The user's own puppet (their Skype identities as one person). */
  async selfPuppet(user: LinkedUser): Promise<PuppetInfo> {
    const first = user.identities[0];
    if (first === undefined) throw new Error("the user has no Skype identity");
    user.linkOwnIdentities();
    return this.ensure(first, { displayName: user.displayName });
  }

  /** The per-room name of the user's own puppet: "<name> (you, on Skype)". */
  selfRoomName(user: LinkedUser): string {
    return displayName(SELF_NAME_TEMPLATE, user.displayName, fallbackName(user.identities[0] ?? ""));
  }

  /** Stops the presence refresh. */
  stop(): void {
    this.presence.stop();
  }
}
