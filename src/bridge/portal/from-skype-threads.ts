// SPDX-License-Identifier: Apache-2.0
/**
 * Skype group threads → group portals: `NFY MSGR\THREAD` (thread info) creates the portal or
 * brings its name, topic and members in line; `ThreadActivity/AddMember|DeleteMember` make puppets
 * join or leave (the user's own identity: the real user is invited or removed); `TopicUpdate` sets
 * the room name and topic. Every effect is idempotent, so replays after a crash are harmless.
 */
import type { ThreadActivityEvent, ThreadInfo } from "../../sessions/types.js";
import { mriKey } from "../../skype/model.js";
import { Logger } from "../../util/logger.js";
import { parsePuppetMxid } from "../ghosts/ids.js";
import { matrixErrorText } from "../matrix/errors.js";
import { invitePending } from "./history.js";
import type { Portal } from "./portal.js";

const log = new Logger("bridge.portal.threads");

const REMOVED_REASON = "You are no longer a member of this Skype group.";

/** Thread info: create the portal (when the user is a member) or sync topic and members. */
export async function handleThreadUpdate(p: Portal, info: ThreadInfo): Promise<void> {
  p.thread = info;
  const row = p.row;
  const user = p.user;
  const member = info.members.length === 0 || info.members.some((m) => user.isSelf(m.mri));
  if (!row) {
    if (member) await p.ensureRoom();
    return;
  }
  const topic = info.topic?.trim() ?? "";
  if (topic !== "" && (row.name !== topic || row.topic !== topic)) {
    await p.bridge.portals.setGroupTopic(row.roomId, topic);
  }
  if (info.members.length > 0) await syncMembers(p, row.roomId, info);
}

/** Joins the puppets of current members and makes puppets of former members leave. */
async function syncMembers(p: Portal, roomId: string, info: ThreadInfo): Promise<void> {
  const { puppets, members, matrix, config, botUserId } = p.bridge;
  const user = p.user;
  const wanted = new Set<string>();
  for (const m of info.members) {
    if (user.isSelf(m.mri)) continue;
    try {
      const puppet = await puppets.ensure(m.mri);
      wanted.add(puppet.mxid);
      await members.ensureJoined(roomId, puppet.mxid);
    } catch (e) {
      log.warn("a group member's puppet could not join", { room: roomId, error: matrixErrorText(e) });
    }
  }
  const self = (await puppets.selfPuppet(user).catch(() => undefined))?.mxid;
  const joined = await matrix.joinedMembers(botUserId, roomId);
  for (const mxid of joined) {
    if (mxid === self || wanted.has(mxid)) continue;
    if (parsePuppetMxid(config.puppets.localpart_template, mxid, config.homeserver.domain) === null) continue;
    await members.leave(roomId, mxid);
  }
}

/** Keeps the cached thread info in line with an activity. */
function updateInfo(p: Portal, e: ThreadActivityEvent): void {
  const info = p.thread;
  const activity = e.activity.toLowerCase();
  const keys = new Set(e.targets.map((t) => mriKey(t.mri)));
  let members = info.members;
  if (activity === "addmember") {
    members = [...members.filter((m) => !keys.has(mriKey(m.mri))), ...e.targets];
  } else if (activity === "deletemember") {
    members = members.filter((m) => !keys.has(mriKey(m.mri)));
  }
  const next: ThreadInfo = { ...info, members };
  if (activity === "topicupdate") next.topic = e.value ?? "";
  p.thread = next;
}

/** `ThreadActivity/*`: membership and topic changes of a group. */
export async function handleThreadActivity(p: Portal, e: ThreadActivityEvent): Promise<void> {
  const { receiver } = p;
  const { members, puppets, portals } = p.bridge;
  const user = p.user;
  const activity = e.activity.toLowerCase();
  updateInfo(p, e);
  const roomId = p.roomId ?? (activity === "addmember" ? await p.ensureRoom(e) : undefined);
  if (roomId === undefined) return p.advanceCursor(e);
  switch (activity) {
    case "addmember":
      for (const t of e.targets) {
        if (user.isSelf(t.mri)) {
          // A room filling with a first link's history gets its invite afterwards (history.ts).
          if (!invitePending(p.bridge.store, receiver, roomId))
            await members.ensureUserInvited(roomId, receiver);
        } else await members.ensureJoined(roomId, (await puppets.ensure(t.mri)).mxid);
      }
      break;
    case "deletemember":
      for (const t of e.targets) {
        if (user.isSelf(t.mri)) await members.kickUser(roomId, receiver, REMOVED_REASON);
        else await members.leave(roomId, puppets.mxidOf(puppets.personFor(t.mri).id));
      }
      break;
    case "topicupdate":
      await portals.setGroupTopic(roomId, e.value ?? "");
      break;
    default:
      log.debug("thread activity not bridged", { activity: e.activity });
  }
  p.advanceCursor(e);
}
