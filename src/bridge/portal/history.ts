// SPDX-License-Identifier: Apache-2.0
/**
 * History on a first link (config `history`): the session reads back the newest messages of the
 * most recent conversations and delivers them with source `history`. A portal room created for such
 * a message is created WITHOUT the user: its history is posted by the puppets first (with the
 * original times), and the user is invited only once the session has caught up. Events sent before
 * a user is a member never notify them; the room's `shared` history visibility (the `private_chat`
 * preset) lets them read it once they join.
 *
 * The rooms waiting for their invite are kept in the store (`meta`), so a crash between the
 * history and the invites still invites the user at the next catch-up.
 */
import type { MessageMeta } from "../../skype/msnp/types.js";
import type { PortalRow, Store } from "../../store/types.js";
import { Logger } from "../../util/logger.js";
import type { Bridge } from "../bridge.js";
import { matrixErrorText } from "../matrix/errors.js";

const log = new Logger("bridge.portal.history");

const pendingKey = (mxid: string): string => `history.pending_invites|${mxid}`;

/** True for an event read back as a first link's history. */
export function isHistory(meta: Pick<MessageMeta, "source"> | undefined): boolean {
  return meta?.source === "history";
}

/** The rooms of `mxid` that got history and still wait for the user's invite. */
export function pendingInvites(store: Store, mxid: string): string[] {
  const raw = store.meta.get(pendingKey(mxid));
  if (raw === undefined) return [];
  try {
    const list: unknown = JSON.parse(raw);
    return Array.isArray(list) ? list.filter((r): r is string => typeof r === "string") : [];
  } catch {
    return [];
  }
}

function savePending(store: Store, mxid: string, rooms: readonly string[]): void {
  if (rooms.length === 0) store.meta.delete(pendingKey(mxid));
  else store.meta.set(pendingKey(mxid), JSON.stringify([...new Set(rooms)]));
}

/** Records that `roomId` was created for history: its user is invited after the catch-up. */
export function deferInvite(store: Store, mxid: string, roomId: string): void {
  store.transaction(() => savePending(store, mxid, [...pendingInvites(store, mxid), roomId]));
}

/** True while `roomId` waits for its user's invite (its history is being posted). */
export function invitePending(store: Store, mxid: string, roomId: string): boolean {
  return pendingInvites(store, mxid).includes(roomId);
}

/**
 * Invites the user into a portal room that got history: in a DM as the contact's puppet with
 * `is_direct` (as room creation does, so clients file it as a chat with that contact), in a group
 * as the bot. Skips a user who is already in the room.
 */
async function inviteUser(bridge: Bridge, portal: PortalRow): Promise<void> {
  const { matrix, members, botUserId } = bridge;
  const current = await matrix.membership(botUserId, portal.roomId, portal.receiver).catch(() => undefined);
  if (current === "join" || current === "invite" || current === "ban") return;
  if (portal.kind === "dm") {
    const puppet = bridge.puppets.mxidOf(portal.conversation);
    await matrix.sendState(puppet, portal.roomId, "m.room.member", portal.receiver, {
      membership: "invite",
      is_direct: true,
    });
  } else {
    await members.ensureUserInvited(portal.roomId, portal.receiver);
  }
}

/**
 * After a catch-up of `mxid`'s session: invites the user into every room that got history, each
 * in its portal's queue (behind the history posted there; the rooms are created by those tasks, so
 * the pending list is read inside them). Rooms left pending by an earlier run are included. Never
 * rejects; a room whose invite fails stays pending for the next catch-up.
 */
export function inviteAfterHistory(bridge: Bridge, mxid: string): void {
  const { store, portals } = bridge;
  const targets = new Set(portals.takeHistoryPortals(mxid));
  for (const roomId of pendingInvites(store, mxid)) {
    const portal = portals.forRoom(roomId);
    if (portal) targets.add(portal);
    else
      store.transaction(() =>
        savePending(
          store,
          mxid,
          pendingInvites(store, mxid).filter((r) => r !== roomId),
        ),
      );
  }
  for (const portal of targets) {
    void portal.enqueue(async () => {
      const row = portal.row;
      if (!row || !invitePending(store, mxid, row.roomId)) return;
      try {
        await inviteUser(bridge, row);
        store.transaction(() =>
          savePending(
            store,
            mxid,
            pendingInvites(store, mxid).filter((r) => r !== row.roomId),
          ),
        );
        log.info("invited the user into a portal with history", { user: mxid, room: row.roomId });
      } catch (e) {
        log.warn("could not invite the user after history", { room: row.roomId, error: matrixErrorText(e) });
      }
    });
  }
}
