// SPDX-License-Identifier: Apache-2.0
/**
 * Portals: the Matrix rooms carrying Skype conversations, one per (linked user, conversation).
 *
 * - A DM portal per person, created on the first message in either direction BY THE CONTACT'S
 *   PUPPET with `is_direct`, so Element files it under People as a chat with that contact; the
 *   user and the bot are invited, the bot is a functional member, the room is named after the
 *   contact (kept in sync), and `m.bridge` + `uk.half-shot.bridge` are in `initial_state`.
 * - A group portal per Skype thread, created by the bot with the thread's topic as name and topic,
 *   the members' puppets joined and the user invited.
 *
 * Creation is single-flight per portal (two messages at once → one room) and recorded in
 * store.portals, so it is idempotent across restarts. Lookups are synchronous (SQLite).
 */
import { mriKey } from "../skype/model.js";
import type { ThreadInfo } from "../sessions/types.js";
import type { PersonMerge, PersonRow, PortalKind } from "../store/types.js";
import { Logger, errorText } from "../util/logger.js";
import { bridgeInfoEvents, functionalMembersEvent, type BridgeIdentity } from "./bridge-info.js";
import type { BridgeContext } from "./context.js";
import { parsePuppetMxid } from "./ids.js";
import type { Puppets } from "./puppets.js";
import { matrixErrorText, txnIdFor } from "./s2m-matrix.js";
import { RoomMembers } from "./s2m-membership.js";
import { SingleFlight } from "./s2m-serial.js";

const log = new Logger("bridge.portals");

/** Where a portal's messages go on Skype. */
export interface PortalTarget {
  receiver: string;
  /** The MRI to send to (the identity the person last wrote from, else their `8:`), or the thread id. */
  conversation: string;
  kind: PortalKind;
}

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

/** True for a Skype thread id (`19:…@thread.skype`). */
export function isThreadId(conversation: string): boolean {
  return /^19:/.test(conversation.trim());
}

/** Room versions where creators hold infinite power and must not be listed in `users` (MSC4289). */
function creatorsArePrivileged(version: string): boolean {
  const n = Number(version);
  return (Number.isFinite(n) && n >= 12) || /hydra/i.test(version);
}

export class Portals {
  /** Membership helper shared with the Skype → Matrix handlers. */
  readonly members: RoomMembers;
  private readonly creating = new SingleFlight<string>();

  constructor(
    private readonly ctx: BridgeContext,
    readonly puppets: Puppets,
  ) {
    this.members = new RoomMembers(puppets.ops, ctx.botUserId);
    puppets.onRenamed((personId) => this.syncDmNames(personId));
    puppets.onMerged((survivor, merge) => this.retireMerged(survivor, merge));
  }

  private get ops(): Puppets["ops"] {
    return this.puppets.ops;
  }

  private get who(): BridgeIdentity {
    const { ctx } = this;
    return { botUserId: ctx.botUserId, domain: ctx.config.homeserver.domain, appserviceId: ctx.appserviceId };
  }

  /** The linked user's own identities (`1:`, `8:`), from their session and the store. */
  selfIdentities(receiver: string): string[] {
    const ids = new Set<string>(this.ctx.sessions.get(receiver)?.identities ?? []);
    const user = this.ctx.store.users.get(receiver);
    if (user?.liveMri) ids.add(user.liveMri);
    if (user?.skypeMri) ids.add(user.skypeMri);
    return [...ids];
  }

  /** True when `mri` is one of the linked user's own identities. */
  isSelf(receiver: string, mri: string): boolean {
    const k = mriKey(mri);
    return this.selfIdentities(receiver).some((id) => mriKey(id) === k);
  }

  /**
   * Where messages in `roomId` go: the receiver, the MRI or thread id to send to, and the kind.
   * Undefined when the room is not a portal. Synchronous.
   */
  conversationFor(roomId: string): PortalTarget | undefined {
    const { store } = this.ctx;
    const portal = store.portals.getByRoom(roomId);
    if (!portal) return undefined;
    if (portal.kind === "group") {
      return { receiver: portal.receiver, conversation: portal.conversation, kind: "group" };
    }
    const conversation = store.persons.replyIdentity(portal.conversation) ?? portal.conversation;
    return { receiver: portal.receiver, conversation, kind: "dm" };
  }

  /** The portal room of `receiver` for a thread id, a person's identity or a person id. Synchronous. */
  roomFor(receiver: string, conversationOrMri: string): string | undefined {
    const { store } = this.ctx;
    if (isThreadId(conversationOrMri)) return store.portals.get(receiver, conversationOrMri)?.roomId;
    const person = store.persons.getByIdentity(conversationOrMri) ?? store.persons.get(conversationOrMri);
    return person ? store.portals.get(receiver, person.id)?.roomId : undefined;
  }

  /**
   * The DM portal of `receiver` with the person `mri` belongs to, created if missing (by the
   * contact's puppet). Network I/O; throws on Matrix or store failures.
   */
  async ensureDm(receiver: string, mri: string): Promise<string> {
    if (isThreadId(mri)) throw new Error("ensureDm needs a person, not a thread id");
    const person = this.puppets.personFor(mri);
    return this.creating.run(`${receiver}\n${person.id}`, async () => {
      const existing = this.ctx.store.portals.get(receiver, person.id);
      if (existing) return existing.roomId;
      const { roomId, name } = await this.createDmRoom(receiver, person.id);
      const res = this.ctx.store.portals.create({
        roomId,
        receiver,
        conversation: person.id,
        kind: "dm",
        name,
      });
      log.info("DM portal created", { user: receiver, person: person.id, room: res.row.roomId });
      return res.row.roomId;
    });
  }

  /**
   * Creates a DM room with the person (not yet a portal row): by the puppet, `is_direct`, the user
   * and the bot invited, bridge info and functional members in `initial_state`.
   */
  async createDmRoom(receiver: string, personId: string): Promise<{ roomId: string; name: string }> {
    const puppet = await this.puppets.ensure(personId);
    const bot = this.ctx.botUserId;
    const version = await this.ops.defaultRoomVersion().catch(() => "1");
    const users: Record<string, number> = { [bot]: 100 };
    if (!creatorsArePrivileged(version)) users[puppet.mxid] = 100;
    const initialState = [
      ...bridgeInfoEvents(this.who, { id: personId, displayName: puppet.displayName, kind: "dm" }),
      functionalMembersEvent([bot]),
    ];
    const avatar = this.ctx.store.persons.get(personId)?.avatarUrl;
    if (avatar?.startsWith("mxc://")) {
      initialState.push({ type: "m.room.avatar", state_key: "", content: { url: avatar } });
    }
    const roomId = await this.ops.createRoom(puppet.mxid, {
      preset: "private_chat",
      visibility: "private",
      is_direct: true,
      invite: [receiver, bot],
      name: puppet.displayName,
      initial_state: initialState,
      power_level_content_override: { users, events: PORTAL_EVENT_LEVELS },
    });
    this.members.markJoined(roomId, puppet.mxid);
    await this.members
      .ensureJoined(roomId, bot)
      .catch((e: unknown) =>
        log.warn("the bot could not join a new DM", { room: roomId, error: matrixErrorText(e) }),
      );
    return { roomId, name: puppet.displayName };
  }

  /**
   * Records an existing DM room as `receiver`'s portal with the person (e.g. after a contact
   * request was accepted there). When they already have one, that one is kept and returned.
   */
  attachDmRoom(receiver: string, personId: string, roomId: string, name: string | null): string {
    const res = this.ctx.store.portals.create({ roomId, receiver, conversation: personId, kind: "dm", name });
    return res.row.roomId;
  }

  /**
   * Adopts a DM the user started from Matrix by inviting a puppet: the puppet joins and the room
   * becomes the portal. When the user already has a DM portal with that person, the puppet joins,
   * points to it and leaves, and the existing room id is returned. Returns the portal's room id.
   * Throws when `puppetMxid` is not one of our puppets.
   */
  async adoptDmRoom(receiver: string, roomId: string, puppetMxid: string): Promise<string> {
    const { config } = this.ctx;
    const key = parsePuppetMxid(config.puppets.localpart_template, puppetMxid, config.homeserver.domain);
    if (key === null) throw new Error(`${puppetMxid} is not a Skype puppet of this bridge`);
    const person = this.puppets.personFor(key);
    return this.creating.run(`${receiver}\n${person.id}`, async () => {
      const existing = this.ctx.store.portals.get(receiver, person.id);
      if (existing?.roomId === roomId) return roomId;
      const puppet = await this.puppets.ensure(person.id);
      const actor = puppet.mxid === puppetMxid ? puppet.mxid : puppetMxid;
      await this.members.ensureJoined(roomId, actor);
      if (existing) {
        await this.pointToExisting(roomId, actor, existing.roomId);
        return existing.roomId;
      }
      const res = this.ctx.store.portals.create({ roomId, receiver, conversation: person.id, kind: "dm" });
      log.info("DM portal adopted", { user: receiver, person: person.id, room: roomId });
      await this.ops
        .invite(actor, roomId, this.ctx.botUserId)
        .then(() => this.members.ensureJoined(roomId, this.ctx.botUserId))
        .catch((e: unknown) =>
          log.debug("the bot did not join an adopted DM", { error: matrixErrorText(e) }),
        );
      return res.row.roomId;
    });
  }

  private async pointToExisting(roomId: string, puppet: string, existingRoom: string): Promise<void> {
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
      await this.ops.sendEvent(
        puppet,
        roomId,
        "m.room.message",
        content,
        txnIdFor("adopt", roomId, existingRoom),
      );
      await this.members.leave(roomId, puppet);
    } catch (e) {
      log.warn("could not redirect a second DM", { room: roomId, error: matrixErrorText(e) });
    }
  }

  /**
   * The group portal of `receiver` for `thread`, created if missing (by the bot; the members'
   * puppets joined, the user invited). Network I/O; throws on Matrix or store failures.
   */
  async ensureGroup(receiver: string, thread: ThreadInfo): Promise<string> {
    return this.creating.run(`${receiver}\n${thread.id}`, async () => {
      const existing = this.ctx.store.portals.get(receiver, thread.id);
      if (existing) return existing.roomId;
      const roomId = await this.createGroupRoom(receiver, thread);
      const topic = thread.topic?.trim() || null;
      const res = this.ctx.store.portals.create({
        roomId,
        receiver,
        conversation: thread.id,
        kind: "group",
        name: topic,
        topic,
      });
      log.info("group portal created", { user: receiver, thread: thread.id, room: res.row.roomId });
      return res.row.roomId;
    });
  }

  private async createGroupRoom(receiver: string, thread: ThreadInfo): Promise<string> {
    const bot = this.ctx.botUserId;
    const puppets: string[] = [];
    for (const m of thread.members) {
      if (this.isSelf(receiver, m.mri)) continue;
      try {
        puppets.push((await this.puppets.ensure(m.mri)).mxid);
      } catch (e) {
        log.warn("skipping a group member without a puppet", { thread: thread.id, error: errorText(e) });
      }
    }
    const version = await this.ops.defaultRoomVersion().catch(() => "1");
    const topic = thread.topic?.trim() ?? "";
    const body: Record<string, unknown> = {
      preset: "private_chat",
      visibility: "private",
      invite: [receiver, ...new Set(puppets)],
      initial_state: [
        ...bridgeInfoEvents(this.who, { id: thread.id, displayName: topic, kind: "group" }),
        functionalMembersEvent([bot]),
      ],
      power_level_content_override: {
        users: creatorsArePrivileged(version) ? {} : { [bot]: 100 },
        events: GROUP_EVENT_LEVELS,
      },
    };
    // Without a topic the room stays unnamed, so clients name it after its members.
    if (topic !== "") Object.assign(body, { name: topic, topic });
    const roomId = await this.ops.createRoom(bot, body);
    this.members.markJoined(roomId, bot);
    for (const p of new Set(puppets)) {
      await this.members
        .ensureJoined(roomId, p)
        .catch((e: unknown) =>
          log.warn("a member's puppet could not join", { room: roomId, error: matrixErrorText(e) }),
        );
    }
    return roomId;
  }

  /** Sets a group portal's name and topic from the Skype topic (only what changed; as the bot). */
  async setGroupTopic(roomId: string, topic: string): Promise<void> {
    const portal = this.ctx.store.portals.getByRoom(roomId);
    if (!portal || portal.kind !== "group") return;
    const text = topic.trim();
    const bot = this.ctx.botUserId;
    if (portal.name !== text) await this.ops.sendState(bot, roomId, "m.room.name", "", { name: text });
    if (portal.topic !== text) await this.ops.sendState(bot, roomId, "m.room.topic", "", { topic: text });
    this.ctx.store.portals.update(roomId, { name: text || null, topic: text || null });
  }

  /** Renames every DM portal of the person after their new display name (rooms we named only). */
  async syncDmNames(personId: string): Promise<void> {
    const { store } = this.ctx;
    const person = store.persons.get(personId);
    if (!person) return;
    const name = this.puppets.nameOf(person);
    const puppet = this.puppets.mxidOf(person.id);
    for (const user of store.users.list()) {
      const portal = store.portals.get(user.mxid, person.id);
      if (!portal || portal.kind !== "dm" || portal.name === null || portal.name === name) continue;
      try {
        await this.ops.sendState(puppet, portal.roomId, "m.room.name", "", { name });
        store.portals.update(portal.roomId, { name });
      } catch (e) {
        log.warn("could not rename a DM portal", { room: portal.roomId, error: matrixErrorText(e) });
      }
    }
  }

  /** A merge dropped DM portals (the user already had one with the survivor): point there, retire. */
  private async retireMerged(survivor: PersonRow, merge: PersonMerge): Promise<void> {
    for (const dropped of merge.droppedPortals) {
      const target = this.ctx.store.portals.get(dropped.receiver, survivor.id)?.roomId;
      const puppet = merge.retiredPuppetMxid ?? this.puppets.mxidOf(survivor.id);
      if (target) await this.pointToExisting(dropped.roomId, puppet, target);
    }
  }
}
