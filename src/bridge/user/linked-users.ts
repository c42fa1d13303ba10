// SPDX-License-Identifier: Apache-2.0
/**
 * Linked users (bridgev2's UserLogin): a Matrix user with a Skype account, their own Skype
 * identities (`1:` and `8:`, which are one person: their own puppet) and their session. The
 * identities are read once per session, not on every message.
 */
import type { Session, SessionManager } from "../../sessions/types.js";
import { mriKey } from "../../skype/model.js";
import type { Store } from "../../store/types.js";
import { Logger, errorText } from "../../util/logger.js";

const log = new Logger("bridge.users");

export class LinkedUser {
  /** The user's own identities, from their session and the store. */
  readonly identities: readonly string[];
  private readonly keys: ReadonlySet<string>;

  constructor(
    readonly mxid: string,
    private readonly store: Store,
    /** The user's session, when one runs. */
    readonly session: Session | undefined,
  ) {
    const ids = new Set<string>(session?.identities ?? []);
    const row = store.users.get(mxid);
    if (row?.liveMri) ids.add(row.liveMri);
    if (row?.skypeMri) ids.add(row.skypeMri);
    this.identities = [...ids];
    this.keys = new Set(this.identities.map(mriKey));
  }

  /** True when `mri` is one of the user's own identities. */
  isSelf(mri: string): boolean {
    try {
      return this.keys.has(mriKey(mri));
    } catch {
      return false;
    }
  }

  /** The name the user has on Skype ("" before their session told it). */
  get displayName(): string {
    return this.session?.displayName ?? "";
  }

  /** Records that the user's `1:` and `8:` identities are one person (their own puppet). */
  linkOwnIdentities(): void {
    if (this.identities.length < 2) return;
    try {
      this.store.persons.link([...this.identities]);
    } catch (e) {
      log.warn("could not link the user's own identities", { user: this.mxid, error: errorText(e) });
    }
  }
}

/** Finds a linked user, reusing what was read for their current session. */
export class LinkedUsers {
  private readonly bySession = new WeakMap<Session, LinkedUser>();

  constructor(
    private readonly store: Store,
    private readonly sessions: Pick<SessionManager, "get">,
  ) {}

  /** The user `mxid` (with no identities when they never linked an account). */
  get(mxid: string): LinkedUser {
    const session = this.sessions.get(mxid);
    // Without a session there is nothing to cache by: the store row is read (one lookup by key).
    if (!session) return new LinkedUser(mxid, this.store, undefined);
    let user = this.bySession.get(session);
    if (!user) {
      user = new LinkedUser(mxid, this.store, session);
      this.bySession.set(session, user);
    }
    return user;
  }
}
