// SPDX-License-Identifier: Apache-2.0
/**
 * What the Matrix → Skype side needs from the portals (implemented by `Portals` in portals.ts), and
 * the helpers around it: who is a bridge user, whom a puppet stands for, and the Matrix-started DM
 * (a linked user invites a contact's puppet to a new direct chat).
 */
import { errorText, Logger } from "../util/logger.js";
import type { BridgeContext } from "./context.js";
import type { MatrixRoomEvent } from "./m2s-events.js";
import { parsePuppetMxid } from "./ids.js";

const log = new Logger("bridge.m2s.portals");

/** Where a portal room's messages go. */
export interface PortalTarget {
  /** The linked Matrix user the portal belongs to. */
  readonly receiver: string;
  /** The MRI to send to (the contact's reply identity) or the thread id. */
  readonly conversation: string;
  readonly kind: "dm" | "group";
}

/** The part of `Portals` this side calls. */
export interface M2sPortals {
  /** The portal of `roomId`, or undefined when the room is not a portal. */
  conversationFor(roomId: string): PortalTarget | undefined | Promise<PortalTarget | undefined>;
  /** Makes `roomId` the receiver's DM portal with the puppet's person (the puppet joins). */
  adoptDmRoom(receiverMxid: string, roomId: string, puppetMxid: string): Promise<unknown>;
}

/** The person key of a puppet MXID, or undefined when `mxid` is not one of our puppets. */
export function puppetPerson(ctx: Pick<BridgeContext, "config">, mxid: string): string | undefined {
  try {
    const { config } = ctx;
    return parsePuppetMxid(config.puppets.localpart_template, mxid, config.homeserver.domain) ?? undefined;
  } catch {
    return undefined;
  }
}

/** True for the bot and every puppet: their events are never bridged (no loops). */
export function isBridgeUser(ctx: Pick<BridgeContext, "config" | "botUserId">, mxid: string): boolean {
  return mxid === ctx.botUserId || puppetPerson(ctx, mxid) !== undefined;
}

/** The Skype identities of a linked user (from the session, else the store). */
export function ownIdentities(ctx: Pick<BridgeContext, "sessions" | "store">, mxid: string): Set<string> {
  const ids = new Set<string>(ctx.sessions.get(mxid)?.identities ?? []);
  const user = ctx.store.users.get(mxid);
  if (user?.liveMri) ids.add(user.liveMri);
  if (user?.skypeMri) ids.add(user.skypeMri);
  return ids;
}

/** Why a puppet invite is refused, or undefined when the DM can be adopted. */
function inviteProblem(ctx: BridgeContext, ev: MatrixRoomEvent, personId: string): string | undefined {
  const mine = ownIdentities(ctx, ev.sender);
  if (mine.size === 0) return "You have not linked a Skype account: send `login` to the bridge bot first.";
  const person = ctx.store.persons.getByIdentity(personId);
  const theirs = person ? ctx.store.persons.identities(person.id).map((i) => i.identity) : [personId];
  if (theirs.some((i) => mine.has(i))) return "This is your own Skype account.";
  if (ev.content["is_direct"] !== true)
    return "Only direct chats with a Skype contact can be started from Matrix.";
  return undefined;
}

/**
 * Handles a linked user inviting a puppet: a direct chat becomes the DM portal with that person
 * (`Portals.adoptDmRoom`); anything else is refused by the puppet leaving with the reason.
 * Never throws.
 */
export async function handlePuppetInvite(
  ctx: BridgeContext,
  portals: M2sPortals,
  ev: MatrixRoomEvent,
  puppetMxid: string,
): Promise<void> {
  const personId = puppetPerson(ctx, puppetMxid);
  if (personId === undefined) return;
  try {
    const portal = await portals.conversationFor(ev.room_id);
    if (portal?.kind === "group" && ev.sender === portal.receiver) {
      await addToThread(ctx, portal, ev.room_id, personId, puppetMxid);
      return;
    }
    if (portal) {
      log.debug("a puppet was invited to an existing portal; ignored", { room: ev.room_id });
      return;
    }
    const problem = inviteProblem(ctx, ev, personId);
    if (problem === undefined) {
      await portals.adoptDmRoom(ev.sender, ev.room_id, puppetMxid);
      log.info("a Matrix-started DM became a portal", { user: ev.sender, room: ev.room_id });
      return;
    }
    log.info("refusing a puppet invite", { user: ev.sender, room: ev.room_id, reason: problem });
    await ctx.intent(puppetMxid).leave(ev.room_id, problem);
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
  ctx: BridgeContext,
  portal: PortalTarget,
  roomId: string,
  personId: string,
  puppetMxid: string,
): Promise<void> {
  const mri = ctx.store.persons.replyIdentity(personId) ?? personId;
  try {
    const session = ctx.sessions.get(portal.receiver);
    if (!session) throw new Error("your Skype account is not connected");
    await session.addThreadMembers(portal.conversation, [mri]);
    log.info("added a contact to a Skype thread from Matrix", { user: portal.receiver });
  } catch (e) {
    log.warn("could not add a contact to a Skype thread", { error: errorText(e) });
    await ctx
      .intent(puppetMxid)
      .leave(roomId, "Skype did not add them to the group")
      .catch(() => undefined);
  }
}
