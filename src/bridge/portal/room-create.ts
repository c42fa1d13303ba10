// SPDX-License-Identifier: Apache-2.0
/**
 * Creating portal rooms, and pointing a user from a second room to the portal they already have.
 *
 * - A DM room is created BY THE CONTACT'S PUPPET with `is_direct`, so Element files it under People
 *   as a chat with that contact; the user and the bot are invited, the bot is a functional member,
 *   the room is named after the contact, and `m.bridge` + `uk.half-shot.bridge` are in
 *   `initial_state`.
 * - A group room is created by the bot with the thread's topic as name and topic, the members'
 *   puppets joined and the user invited.
 */
import type { ThreadInfo } from "../../sessions/types.js";
import { Logger, errorText } from "../../util/logger.js";
import type { Bridge } from "../bridge.js";
import { bridgeInfoEvents, functionalMembersEvent, type BridgeIdentity } from "../matrix/bridge-info.js";
import { matrixErrorText } from "../matrix/errors.js";
import { txnIdFor } from "../matrix/txn-ids.js";

const log = new Logger("bridge.portal.rooms");

/** Power levels of event types in portals (matrix-conventions §2.4). */
const PORTAL_EVENT_LEVELS: Readonly<Record<string, number>> = {
  "m.room.name": 50,
  "m.room.topic": 50,
  "m.room.avatar": 50,
  "m.room.power_levels": 100,
  "m.room.history_visibility": 100,
  "m.room.tombstone": 100,
  "m.room.server_acl": 100,
  "m.room.encryption": 100,
  "m.bridge": 100,
  "uk.half-shot.bridge": 100,
  "io.element.functional_members": 100,
};

/**
 * In group portals anyone may rename the room or change its topic, as any member of a Skype
 * thread may set its topic (PROFILE §5); the change is sent to Skype.
 */
const GROUP_EVENT_LEVELS: Readonly<Record<string, number>> = {
  ...PORTAL_EVENT_LEVELS,
  "m.room.name": 0,
  "m.room.topic": 0,
};

/** Room versions where creators hold infinite power and must not be listed in `users` (MSC4289). */
function creatorsArePrivileged(version: string): boolean {
  const n = Number(version);
  return (Number.isFinite(n) && n >= 12) || /hydra/i.test(version);
}

function identity(bridge: Bridge): BridgeIdentity {
  return {
    botUserId: bridge.botUserId,
    domain: bridge.config.homeserver.domain,
    appserviceId: bridge.appserviceId,
  };
}

/** `m.room.encryption` for new portals when `encryption.default` (end-to-bridge encryption) is on. */
function encryptionState(
  bridge: Bridge,
): { type: string; state_key: string; content: Record<string, unknown> }[] {
  const { enabled, default: byDefault } = bridge.config.encryption;
  return enabled && byDefault
    ? [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }]
    : [];
}

/**
 * Creates `receiver`'s DM room with the person (not yet recorded as a portal), named after them
 * unless `opts` names it otherwise (a contact request's room says what it is).
 */
export async function createDmRoom(
  bridge: Bridge,
  receiver: string,
  personId: string,
  opts: { name?: string; topic?: string; inviteUser?: boolean } = {},
): Promise<{ roomId: string; name: string }> {
  const { matrix, members, store, botUserId: bot } = bridge;
  const puppet = await bridge.puppets.ensure(personId);
  const version = await matrix.defaultRoomVersion().catch(() => "1");
  const users: Record<string, number> = { [bot]: 100 };
  if (!creatorsArePrivileged(version)) users[puppet.mxid] = 100;
  const initialState = [
    ...bridgeInfoEvents(identity(bridge), { id: personId, displayName: puppet.displayName, kind: "dm" }),
    functionalMembersEvent([bot]),
    ...encryptionState(bridge),
  ];
  const avatar = store.persons.get(personId)?.avatarUrl;
  if (avatar?.startsWith("mxc://")) {
    initialState.push({ type: "m.room.avatar", state_key: "", content: { url: avatar } });
  }
  const roomId = await matrix.createRoom(puppet.mxid, {
    preset: "private_chat",
    visibility: "private",
    is_direct: true,
    // Without the user when history is posted first (portal/history.ts invites them after).
    invite: opts.inviteUser === false ? [bot] : [receiver, bot],
    name: opts.name ?? puppet.displayName,
    ...(opts.topic === undefined ? {} : { topic: opts.topic }),
    initial_state: initialState,
    power_level_content_override: { users, events: PORTAL_EVENT_LEVELS },
  });
  members.markJoined(roomId, puppet.mxid);
  await members
    .ensureJoined(roomId, bot)
    .catch((e: unknown) =>
      log.warn("the bot could not join a new DM", { room: roomId, error: matrixErrorText(e) }),
    );
  return { roomId, name: puppet.displayName };
}

/**
 * Creates `receiver`'s group room for `thread` (not yet recorded as a portal); `inviteUser` false
 * leaves the user out (history is posted first, portal/history.ts).
 */
export async function createGroupRoom(
  bridge: Bridge,
  receiver: string,
  thread: ThreadInfo,
  inviteUser = true,
): Promise<string> {
  const { matrix, members, botUserId: bot } = bridge;
  const user = bridge.users.get(receiver);
  const puppets: string[] = [];
  for (const m of thread.members) {
    if (user.isSelf(m.mri)) continue;
    try {
      puppets.push((await bridge.puppets.ensure(m.mri)).mxid);
    } catch (e) {
      log.warn("skipping a group member without a puppet", { thread: thread.id, error: errorText(e) });
    }
  }
  const version = await matrix.defaultRoomVersion().catch(() => "1");
  const topic = thread.topic?.trim() ?? "";
  const body: Record<string, unknown> = {
    preset: "private_chat",
    visibility: "private",
    invite: inviteUser ? [receiver, ...new Set(puppets)] : [...new Set(puppets)],
    initial_state: [
      ...bridgeInfoEvents(identity(bridge), { id: thread.id, displayName: topic, kind: "group" }),
      functionalMembersEvent([bot]),
      ...encryptionState(bridge),
    ],
    power_level_content_override: {
      users: creatorsArePrivileged(version) ? {} : { [bot]: 100 },
      events: GROUP_EVENT_LEVELS,
    },
  };
  // Without a topic the room stays unnamed, so clients name it after its members.
  if (topic !== "") Object.assign(body, { name: topic, topic });
  const roomId = await matrix.createRoom(bot, body);
  members.markJoined(roomId, bot);
  for (const p of new Set(puppets)) {
    await members
      .ensureJoined(roomId, p)
      .catch((e: unknown) =>
        log.warn("a member's puppet could not join", { room: roomId, error: matrixErrorText(e) }),
      );
  }
  return roomId;
}

/** Tells the user in a second DM room (as the contact's puppet) to use the existing one; leaves. */
export async function pointToExisting(
  bridge: Bridge,
  roomId: string,
  puppet: string,
  existingRoom: string,
): Promise<void> {
  const link = `https://matrix.to/#/${encodeURIComponent(existingRoom)}`;
  const body = `You already have a chat with me here: ${link}. Please use that room.`;
  const content = {
    msgtype: "m.notice",
    body,
    format: "org.matrix.custom.html",
    formatted_body: `You already have a chat with me <a href="${link}">here</a>. Please use that room.`,
    "m.mentions": {},
  };
  try {
    await bridge.matrix.sendEvent(
      puppet,
      roomId,
      "m.room.message",
      content,
      txnIdFor("adopt", roomId, existingRoom),
    );
    await bridge.members.leave(roomId, puppet);
  } catch (e) {
    log.warn("could not redirect a second DM", { room: roomId, error: matrixErrorText(e) });
  }
}
