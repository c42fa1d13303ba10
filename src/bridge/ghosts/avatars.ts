// SPDX-License-Identifier: Apache-2.0
/**
 * Puppet avatars (PROFILE §7.6): each person's Skype avatar is uploaded to the homeserver's media
 * repository once and set on their puppet. It is asked for again, with the stored ETag (an unchanged
 * avatar costs one `304` and no upload), whenever the contacts are re-read because something changed
 * (`NFY MSGR\ABCH`: the profile's signal for a new avatar, an answered request, a user's `sync`),
 * and on a routine re-read (each connect, the periodic one) only for persons not asked for within
 * {@link ROUTINE_RECHECK_MS}: a restart of 1,000 accounts with 50 contacts each otherwise asked for
 * 51,000 avatars and took 53 s instead of 18 s to bring everyone back (BENCHMARKS.md, cause 8).
 * The ETag, the `mxc://` and when it was asked for are kept per person (persons.avatar_etag /
 * avatar_url / avatar_checked_ts); a puppet created later gets the stored avatar from puppets.ts.
 *
 * - `404`: the person has no avatar (any previous one is cleared);
 * - a body that is not an image (or any other failure): the previous avatar stays, logged.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { SkypeError, SkypeErrorCode } from "../../skype/errors.js";
import type { Contact } from "../../skype/model.js";
import type { ContactsReadInfo, Session } from "../../sessions/types.js";
import { errorText, Logger } from "../../util/logger.js";
import type { Bridge } from "../bridge.js";

const log = new Logger("bridge.avatars");

/** Avatar requests in flight at once per sync (a contact list is read in small parallel batches). */
const CONCURRENCY = 4;

/**
 * A routine re-read skips persons whose avatar was asked for less than this long ago: a change
 * made while the bridge was away shows within a day, one made while it runs at once (ABCH).
 */
export const ROUTINE_RECHECK_MS = 24 * 60 * 60 * 1000;

/** A failure that would repeat for every person (network, session gone, token refused). */
function stopsTheRound(e: unknown): boolean {
  if (!(e instanceof SkypeError)) return false;
  return (
    e.retryable ||
    e.code === SkypeErrorCode.NotConnected ||
    e.code === SkypeErrorCode.BadCredentials ||
    e.code === SkypeErrorCode.OAuth
  );
}

export class PuppetAvatars {
  /** Persons whose avatar is being read now (another sync asking meanwhile waits for that one). */
  private readonly inFlight = new Map<string, Promise<void>>();
  /**
   * Per linked user, the last round that went through without a stop: when, and a digest of the
   * identities it covered. A routine read of the same identities within the routine window has
   * nothing to ask for, and is then skipped without a look at each person (after a server outage
   * every user's contacts are re-read at once).
   */
  private readonly lastRound = new Map<
    string,
    { at: number; identities: string; list: readonly Contact[]; own: string | undefined }
  >();

  constructor(private readonly bridge: Bridge) {}

  /**
   * Reads the avatars of `contacts` and of the user's own identity through `session` and applies
   * what changed; a `routine` read skips persons asked for recently. Never rejects; failures are
   * logged per person.
   */
  async syncAll(session: Session, contacts: readonly Contact[], info: ContactsReadInfo): Promise<void> {
    if (!session.fetchAvatar) return;
    const own = session.identities.find((i) => i.startsWith("8:")) ?? session.identities[0];
    const now = this.bridge.now();
    const last = this.lastRound.get(session.mxid);
    // The very list of the last round (a session hands the same frozen list while it is unchanged).
    const same = last?.list === contacts && last.own === own;
    if (info.routine && same && now - last.at < ROUTINE_RECHECK_MS) return;
    const identities: string[] = [];
    if (own !== undefined) identities.push(own);
    for (const c of contacts) {
      const id = c.identities.find((i) => i.startsWith("8:")) ?? c.identities[0];
      if (id !== undefined) identities.push(id);
    }
    const unique = [...new Set(identities)];
    const covered = createHash("sha256").update(unique.join("\n")).digest("base64");
    if (info.routine && last?.identities === covered && now - last.at < ROUTINE_RECHECK_MS) {
      last.list = contacts;
      last.own = own;
      return;
    }
    const queue = unique.filter((id) => !info.routine || !this.checkedSince(id, now));
    let stopped: unknown;
    const worker = async (): Promise<void> => {
      for (let id = queue.shift(); id !== undefined && stopped === undefined; id = queue.shift()) {
        try {
          await this.sync(session, id);
        } catch (e) {
          stopped ??= e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, () => worker()));
    // One line for the round, not one per contact: the next contacts sync tries again.
    if (stopped !== undefined)
      log.warn("avatars could not be read this time", { user: session.mxid, error: errorText(stopped) });
    // The round stands for its oldest check (a person skipped as recent, or one whose read failed).
    else
      this.lastRound.set(session.mxid, {
        at: this.oldestCheck(unique, now),
        identities: covered,
        list: contacts,
        own,
      });
  }

  /**
   * Reads one person's avatar (by one of their identities) and applies it. Rejects only when the
   * failure is not about this person (the connection, the Skype token): the round stops.
   */
  sync(session: Session, identity: string): Promise<void> {
    const person = this.bridge.puppets.personFor(identity);
    const running = this.inFlight.get(person.id);
    if (running) return running;
    const task = this.syncNow(session, person.id, identity).finally(() => this.inFlight.delete(person.id));
    this.inFlight.set(person.id, task);
    return task;
  }

  /** The oldest time any of `identities` had their avatar asked for (`now` when all were just now). */
  private oldestCheck(identities: readonly string[], now: number): number {
    let oldest = now;
    for (const id of identities) {
      const checked = this.bridge.store.persons.getByIdentity(id)?.avatarCheckedTs;
      if (checked == null) return 0;
      oldest = Math.min(oldest, checked);
    }
    return oldest;
  }

  /** Whether the person behind `identity` had their avatar asked for within the routine window. */
  private checkedSince(identity: string, now: number): boolean {
    const checked = this.bridge.store.persons.getByIdentity(identity)?.avatarCheckedTs;
    return checked != null && now - checked < ROUTINE_RECHECK_MS;
  }

  private async syncNow(session: Session, personId: string, identity: string): Promise<void> {
    const { store, media, botUserId } = this.bridge;
    const before = store.persons.get(personId);
    if (!before || !session.fetchAvatar) return;
    const etag = before.avatarUrl !== null ? (before.avatarEtag ?? undefined) : undefined;
    try {
      const res = await session.fetchAvatar(identity, etag);
      // Asked for and answered (a failure that stops the round is not: it is asked for next time).
      store.persons.update(personId, { avatarCheckedTs: this.bridge.now() });
      if (res.kind === "unchanged") return await this.apply(personId);
      if (res.kind === "none") {
        if (before.avatarUrl === null) return;
        store.persons.update(personId, { avatarUrl: null, avatarEtag: null });
        log.info("a Skype avatar was removed", { person: personId });
        return await this.apply(personId);
      }
      const mxc = await media.upload(botUserId, Readable.from([res.bytes]), {
        contentType: res.contentType,
        filename: "avatar",
        size: res.bytes.length,
      });
      store.persons.update(personId, { avatarUrl: mxc, avatarEtag: res.etag ?? null });
      log.info("a Skype avatar was uploaded", { person: personId, bytes: res.bytes.length });
      await this.apply(personId);
    } catch (e) {
      if (stopsTheRound(e)) throw e;
      log.warn("could not read a Skype avatar; the previous one stays", {
        person: personId,
        error: errorText(e),
      });
    }
  }

  /**
   * Sets the person's stored avatar on their puppet, when they have one (puppets.ts compares first),
   * and on the DM portals that show it as their room avatar.
   */
  private async apply(personId: string): Promise<void> {
    const { store, puppets, matrix } = this.bridge;
    const puppet = store.puppets.get(personId);
    if (!puppet) return;
    const changed = (puppet.avatarSet ?? null) !== (store.persons.get(personId)?.avatarUrl ?? null);
    await puppets.ensure(personId);
    if (!changed) return;
    const url = store.persons.get(personId)?.avatarUrl ?? null;
    for (const user of store.users.list()) {
      const portal = store.portals.get(user.mxid, personId);
      if (portal?.kind !== "dm") continue;
      await matrix
        .sendState(puppet.mxid, portal.roomId, "m.room.avatar", "", url ? { url } : {})
        .catch((e: unknown) =>
          log.debug("could not set a DM's avatar", { room: portal.roomId, error: errorText(e) }),
        );
    }
  }
}
