// SPDX-License-Identifier: Apache-2.0
/**
 * Puppet invites: a linked user inviting a contact's puppet to a new direct chat starts a DM portal there; inviting one into a
 * group portal adds that contact to the Skype thread.
 */
import { errorText, Logger } from "../../util/logger.js";
import type { Bridge } from "../bridge.js";
import { puppetPerson } from "../ghosts/ids.js";
import type { MatrixRoomEvent } from "./matrix-event-kinds.js";
import type { Portal } from "./portal.js";

const log = new Logger("bridge.portal.invites");

/** Why a puppet invite is refused, or undefined when the DM can be adopted. */
function inviteProblem(bridge: Bridge, ev: MatrixRoomEvent, personId: string): string | undefined {
  const me = bridge.users.get(ev.sender);
  if (me.identities.length === 0)
    return "You have not linked a Skype account: send `login` to the bridge bot first.";
  const { persons } = bridge.store;
  const person = persons.getByIdentity(personId);
  const theirs = person ? persons.identities(person.id).map((i) => i.identity) : [personId];
  if (theirs.some((i) => me.isSelf(i))) return "This is your own Skype account.";
  if (ev.content["is_direct"] !== true)
    return "Only direct chats with a Skype contact can be started from Matrix.";
  return undefined;
}

/**
 * Handles a linked user inviting a puppet: a direct chat becomes the DM portal with that person
 * (`PortalRegistry.adoptDmRoom`); anything else is refused by the puppet leaving with the reason.
 * Runs in the portal's queue when the room is a portal. Never throws.
 */
export async function handlePuppetInvite(
  bridge: Bridge,
  ev: MatrixRoomEvent,
  puppetMxid: string,
): Promise<void> {
  const personId = puppetPerson(bridge, puppetMxid);
  if (personId === undefined) return;
  try {
    const portal = bridge.portals.forRoom(ev.room_id);
    if (portal?.kind === "group" && ev.sender === portal.receiver) {
      await addToThread(portal, ev.room_id, personId, puppetMxid);
      return;
    }
    if (portal) {
      log.debug("a puppet was invited to an existing portal; ignored", { room: ev.room_id });
      return;
    }
    const problem = inviteProblem(bridge, ev, personId);
    if (problem === undefined) {
      await bridge.portals.adoptDmRoom(ev.sender, ev.room_id, puppetMxid);
      log.info("a Matrix-started DM became a portal", { user: ev.sender, room: ev.room_id });
      return;
    }
    log.info("refusing a puppet invite", { user: ev.sender, room: ev.room_id, reason: problem });
    await bridge.env.intent(puppetMxid).leave(ev.room_id, problem);
  } catch (e) {
    log.warn("could not handle a puppet invite", { room: ev.room_id, error: errorText(e) });
  }
}

/**
 * The user invited a contact's puppet into a group portal: add that person to the Skype thread
 * (any member may, PROFILE §5). The puppet joins when Skype announces the new member; if Skype
 * refuses, the invite is withdrawn with the reason.
 */
async function addToThread(
  portal: Portal,
  roomId: string,
  personId: string,
  puppetMxid: string,
): Promise<void> {
  const { store, sessions, env } = portal.bridge;
  const mri = store.persons.replyIdentity(personId) ?? personId;
  try {
    const session = sessions.get(portal.receiver);
    if (!session) throw new Error("your Skype account is not connected");
    await session.addThreadMembers(portal.id, [mri]);
    log.info("added a contact to a Skype thread from Matrix", { user: portal.receiver });
  } catch (e) {
    log.warn("could not add a contact to a Skype thread", { error: errorText(e) });
    await env
      .intent(puppetMxid)
      .leave(roomId, "Skype did not add them to the group")
      .catch(() => undefined);
  }
}
