// SPDX-License-Identifier: Apache-2.0
/**
 * Skype group threads → group portals: `NFY MSGR\THREAD` (thread info) creates the portal or
 * brings its name, topic and members in line; `ThreadActivity/AddMember|DeleteMember` make puppets
 * join or leave (the user's own identity: the real user is invited or removed); `TopicUpdate` sets
 * the room name and topic. Every effect is idempotent, so replays after a crash are harmless.
 */
import type { Session, ThreadActivityEvent, ThreadInfo } from "../sessions/types.js";
import { mriKey } from "../skype/model.js";
import { parsePuppetMxid } from "./ids.js";
import { advanceCursor, portalOf, selfPuppet, threadInfo, type S2MDeps } from "./s2m-deps.js";
import { matrixErrorText } from "./s2m-matrix.js";

const REMOVED_REASON = "You are no longer a member of this Skype group.";

/** Thread info: create the portal (when the user is a member) or sync topic and members. */
export async function handleThreadUpdate(d: S2MDeps, session: Session, info: ThreadInfo): Promise<void> {
  const receiver = session.mxid;
  d.threads.set(`${receiver}\n${info.id}`, info);
  const portal = d.ctx.store.portals.get(receiver, info.id);
  const member = info.members.length === 0 || info.members.some((m) => d.portals.isSelf(receiver, m.mri));
  if (!portal) {
    if (member) await d.portals.ensureGroup(receiver, info);
    return;
  }
  const topic = info.topic?.trim() ?? "";
  if (topic !== "" && (portal.name !== topic || portal.topic !== topic)) {
    await d.portals.setGroupTopic(portal.roomId, topic);
  }
  if (info.members.length > 0) await syncMembers(d, session, portal.roomId, info);
}

/** Joins the puppets of current members and makes puppets of former members leave. */
async function syncMembers(d: S2MDeps, session: Session, roomId: string, info: ThreadInfo): Promise<void> {
  const receiver = session.mxid;
  const wanted = new Set<string>();
  for (const m of info.members) {
    if (d.portals.isSelf(receiver, m.mri)) continue;
    try {
      const puppet = await d.puppets.ensure(m.mri);
      wanted.add(puppet.mxid);
      await d.members.ensureJoined(roomId, puppet.mxid);
    } catch (e) {
      d.log.warn("a group member's puppet could not join", { room: roomId, error: matrixErrorText(e) });
    }
  }
  const { config } = d.ctx;
  const self = (await selfPuppet(d, session).catch(() => undefined))?.mxid;
  const joined = await d.ops.joinedMembers(d.ctx.botUserId, roomId);
  for (const mxid of joined) {
    if (mxid === self || wanted.has(mxid)) continue;
    if (parsePuppetMxid(config.puppets.localpart_template, mxid, config.homeserver.domain) === null) continue;
    await d.members.leave(roomId, mxid);
  }
}

/** Keeps the cached thread info in line with an activity. */
function updateInfo(d: S2MDeps, receiver: string, e: ThreadActivityEvent): void {
  const info = threadInfo(d, receiver, e.conversation);
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
  d.threads.set(`${receiver}\n${e.conversation}`, next);
}

/** `ThreadActivity/*`: membership and topic changes of a group. */
export async function handleThreadActivity(
  d: S2MDeps,
  session: Session,
  e: ThreadActivityEvent,
): Promise<void> {
  const receiver = session.mxid;
  const activity = e.activity.toLowerCase();
  updateInfo(d, receiver, e);
  const existing = d.portals.roomFor(receiver, e.conversation);
  const roomId =
    existing ?? (activity === "addmember" ? await portalOf(d, receiver, e.conversation) : undefined);
  if (roomId === undefined) return advanceCursor(d, receiver, e);
  switch (activity) {
    case "addmember":
      for (const t of e.targets) {
        if (d.portals.isSelf(receiver, t.mri)) await d.members.ensureUserInvited(roomId, receiver);
        else await d.members.ensureJoined(roomId, (await d.puppets.ensure(t.mri)).mxid);
      }
      break;
    case "deletemember":
      for (const t of e.targets) {
        if (d.portals.isSelf(receiver, t.mri)) await d.members.kickUser(roomId, receiver, REMOVED_REASON);
        else await d.members.leave(roomId, d.puppets.mxidOf(d.puppets.personFor(t.mri).id));
      }
      break;
    case "topicupdate":
      await d.portals.setGroupTopic(roomId, e.value ?? "");
      break;
    default:
      d.log.debug("thread activity not bridged", { activity: e.activity });
  }
  advanceCursor(d, receiver, e);
}
