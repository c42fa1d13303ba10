// SPDX-License-Identifier: Apache-2.0
/**
 * The portal registry: finds the portal of a Skype conversation or of a Matrix room, creates portal
 * rooms (single-flight per portal, so two messages at once make one room, and recorded in
 * store.portals, so creation is idempotent across restarts), and owns the queue every portal runs
 * its events through. One portal per (linked user, conversation): a person (both of their
 * identities share one DM portal) or a Skype thread.
 */
import type { ThreadInfo } from "../../sessions/types.js";
import type { PersonMerge, PersonRow, PortalKind } from "../../store/types.js";
import { KeyedQueue, SingleFlight } from "../../util/keyed-queue.js";
import { Logger, errorText } from "../../util/logger.js";
import type { Bridge } from "../bridge.js";
import { parsePuppetMxid } from "../ghosts/ids.js";
import { matrixErrorText } from "../matrix/errors.js";
import type { SkypeEvent } from "./from-skype.js";
import { deferInvite, isHistory } from "./history.js";
import { Portal } from "./portal.js";
import { reportUnroutable } from "./skype-failures.js";
import { createDmRoom, createGroupRoom, pointToExisting } from "./room-create.js";

const log = new Logger("bridge.portals");

/** Where a portal room's messages go on Skype. */
export interface PortalTarget {
  readonly receiver: string;
  /** The MRI to send to (the identity the person last wrote from, else their `8:`), or the thread id. */
  readonly conversation: string;
  readonly kind: PortalKind;
}

/** True for a Skype thread id (`19:…@thread.skype`). */
export function isThreadId(conversation: string): boolean {
  return /^19:/.test(conversation.trim());
}

export class PortalRegistry {
  /** The queue of every portal (keyed by {@link Portal.key}) and of the bridge's other serial work. */
  readonly queue = new KeyedQueue((key, e) =>
    log.error("an event could not be bridged", { queue: key.split("\n")[1], error: describe(e) }),
  );
  private readonly portals = new Map<string, Portal>();
  private readonly creating = new SingleFlight<string>();
  /** Portals that were handed a first link's history, per user, until its catch-up ended (history.ts). */
  private readonly withHistory = new Map<string, Set<Portal>>();

  constructor(private readonly bridge: Bridge) {
    bridge.puppets.onRenamed((personId) => this.syncDmNames(personId));
    bridge.puppets.onMerged((survivor, merge) => this.retireMerged(survivor, merge));
  }

  /** The portal of `receiver` with the person or thread `id` (kept for the life of the process). */
  get(receiver: string, id: string, kind: PortalKind): Portal {
    const key = `${receiver}\n${id}`;
    let portal = this.portals.get(key);
    if (!portal) {
      portal = new Portal(this.bridge, receiver, id, kind);
      this.portals.set(key, portal);
    }
    return portal;
  }

  /** The portal whose room is `roomId`, or undefined when the room is not a portal. */
  forRoom(roomId: string): Portal | undefined {
    const row = this.bridge.store.portals.getByRoom(roomId);
    return row ? this.get(row.receiver, row.conversation, row.kind) : undefined;
  }

  /**
   * The portal of a Skype conversation: a thread id, or the person of a contact MRI. `createPerson`
   * false: undefined for a person never seen. Undefined for the user's own identity.
   */
  forConversation(receiver: string, conversation: string, createPerson = true): Portal | undefined {
    if (isThreadId(conversation)) return this.get(receiver, conversation, "group");
    if (this.bridge.users.get(receiver).isSelf(conversation)) return undefined;
    const { puppets, store } = this.bridge;
    const person = createPerson ? puppets.personFor(conversation) : store.persons.getByIdentity(conversation);
    return person ? this.get(receiver, person.id, "dm") : undefined;
  }

  /** Queues a Skype event of `receiver`'s session on its portal. Never throws. */
  routeSkypeEvent(receiver: string, conversation: string, event: SkypeEvent): void {
    let portal: Portal | undefined;
    try {
      // Typing never creates a person (nor, later, a room).
      portal = this.forConversation(receiver, conversation, event.kind !== "typing");
    } catch (e) {
      void this.queue.push(`unroutable\n${receiver}`, () =>
        reportUnroutable(this.bridge, receiver, event, e),
      );
      return;
    }
    if (!portal) {
      log.debug("ignoring an event of a conversation with the user's own identity", { user: receiver });
      return;
    }
    const p = portal;
    if ("source" in event.event && isHistory(event.event)) {
      const set = this.withHistory.get(receiver) ?? new Set<Portal>();
      this.withHistory.set(receiver, set.add(p));
    }
    void p.enqueue(() => p.handleSkypeEvent(event));
  }

  /** The portals handed history of `receiver` since the last call (history.ts invites their user). */
  takeHistoryPortals(receiver: string): Portal[] {
    const set = this.withHistory.get(receiver);
    this.withHistory.delete(receiver);
    return set ? [...set] : [];
  }

  /**
   * Forgets the in-memory portal of `receiver` with the person or thread `id` (after its room was
   * deleted from the store): the next event of that conversation gets a fresh portal.
   */
  forget(receiver: string, id: string): void {
    this.portals.delete(`${receiver}\n${id}`);
  }

  /** Resolves once every event queued so far has been handled (tests, shutdown). */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  /** Where messages in `roomId` go; undefined when the room is not a portal. */
  conversationFor(roomId: string): PortalTarget | undefined {
    const portal = this.forRoom(roomId);
    return portal && { receiver: portal.receiver, conversation: portal.skypeConversation, kind: portal.kind };
  }

  /** The portal room of `receiver` for a thread id, a person's identity or a person id. */
  roomFor(receiver: string, conversationOrMri: string): string | undefined {
    const { store } = this.bridge;
    if (isThreadId(conversationOrMri)) return store.portals.get(receiver, conversationOrMri)?.roomId;
    const person = store.persons.getByIdentity(conversationOrMri) ?? store.persons.get(conversationOrMri);
    return person ? store.portals.get(receiver, person.id)?.roomId : undefined;
  }

  /** The contact's puppet of a DM portal room (who may post when the bot is not in the room). */
  dmPuppetOf(roomId: string): string | undefined {
    const row = this.bridge.store.portals.getByRoom(roomId);
    return row?.kind === "dm" ? this.bridge.store.puppets.get(row.conversation)?.mxid : undefined;
  }

  /**
   * The DM portal room of `receiver` with the person `mri` belongs to, created if missing (by the
   * contact's puppet). Network I/O; throws on Matrix or store failures.
   */
  async ensureDm(receiver: string, mri: string, opts: { forHistory?: boolean } = {}): Promise<string> {
    if (isThreadId(mri)) throw new Error("ensureDm needs a person, not a thread id");
    const person = this.bridge.puppets.personFor(mri);
    return this.creating.run(`${receiver}\n${person.id}`, async () => {
      const { store } = this.bridge;
      const existing = store.portals.get(receiver, person.id);
      if (existing) return existing.roomId;
      const inviteUser = opts.forHistory !== true;
      const { roomId, name } = await createDmRoom(this.bridge, receiver, person.id, { inviteUser });
      const res = store.transaction(() => {
        const created = store.portals.create({ roomId, receiver, conversation: person.id, kind: "dm", name });
        if (!inviteUser) deferInvite(store, receiver, created.row.roomId);
        return created;
      });
      log.info("DM portal created", { user: receiver, person: person.id, room: res.row.roomId });
      return res.row.roomId;
    });
  }

  /**
   * Records an existing DM room as `receiver`'s portal with the person (e.g. after a contact
   * request was accepted there). When they already have one, that one is kept and returned.
   */
  attachDmRoom(receiver: string, personId: string, roomId: string, name: string | null): string {
    const res = this.bridge.store.portals.create({
      roomId,
      receiver,
      conversation: personId,
      kind: "dm",
      name,
    });
    return res.row.roomId;
  }

  /**
   * Adopts a DM the user started from Matrix by inviting a puppet: the puppet joins and the room
   * becomes the portal. When the user already has a DM portal with that person, the puppet joins,
   * points to it and leaves, and the existing room id is returned. Returns the portal's room id.
   * Throws when `puppetMxid` is not one of our puppets.
   */
  async adoptDmRoom(receiver: string, roomId: string, puppetMxid: string): Promise<string> {
    const { config, store, members, matrix, botUserId } = this.bridge;
    const key = parsePuppetMxid(config.puppets.localpart_template, puppetMxid, config.homeserver.domain);
    if (key === null) throw new Error(`${puppetMxid} is not a Skype puppet of this bridge`);
    const person = this.bridge.puppets.personFor(key);
    return this.creating.run(`${receiver}\n${person.id}`, async () => {
      const existing = store.portals.get(receiver, person.id);
      if (existing?.roomId === roomId) return roomId;
      const puppet = await this.bridge.puppets.ensure(person.id);
      const actor = puppet.mxid === puppetMxid ? puppet.mxid : puppetMxid;
      await members.ensureJoined(roomId, actor);
      if (existing) {
        await pointToExisting(this.bridge, roomId, actor, existing.roomId);
        return existing.roomId;
      }
      const res = store.portals.create({ roomId, receiver, conversation: person.id, kind: "dm" });
      log.info("DM portal adopted", { user: receiver, person: person.id, room: roomId });
      await matrix
        .invite(actor, roomId, botUserId)
        .then(() => members.ensureJoined(roomId, botUserId))
        .catch((e: unknown) =>
          log.debug("the bot did not join an adopted DM", { error: matrixErrorText(e) }),
        );
      return res.row.roomId;
    });
  }

  /**
   * The group portal room of `receiver` for `thread`, created if missing (by the bot; the members'
   * puppets joined, the user invited). Network I/O; throws on Matrix or store failures.
   */
  async ensureGroup(
    receiver: string,
    thread: ThreadInfo,
    opts: { forHistory?: boolean } = {},
  ): Promise<string> {
    return this.creating.run(`${receiver}\n${thread.id}`, async () => {
      const { store } = this.bridge;
      const existing = store.portals.get(receiver, thread.id);
      if (existing) return existing.roomId;
      const inviteUser = opts.forHistory !== true;
      const roomId = await createGroupRoom(this.bridge, receiver, thread, inviteUser);
      const topic = thread.topic?.trim() || null;
      const res = store.transaction(() => {
        const created = store.portals.create({
          roomId,
          receiver,
          conversation: thread.id,
          kind: "group",
          name: topic,
          topic,
        });
        if (!inviteUser) deferInvite(store, receiver, created.row.roomId);
        return created;
      });
      log.info("group portal created", { user: receiver, thread: thread.id, room: res.row.roomId });
      return res.row.roomId;
    });
  }

  /** Sets a group portal's name and topic from the Skype topic (only what changed; as the bot). */
  async setGroupTopic(roomId: string, topic: string): Promise<void> {
    const { store, matrix, botUserId: bot } = this.bridge;
    const portal = store.portals.getByRoom(roomId);
    if (!portal || portal.kind !== "group") return;
    const text = topic.trim();
    if (portal.name !== text) await matrix.sendState(bot, roomId, "m.room.name", "", { name: text });
    if (portal.topic !== text) await matrix.sendState(bot, roomId, "m.room.topic", "", { topic: text });
    store.portals.update(roomId, { name: text || null, topic: text || null });
  }

  /** Renames every DM portal of the person after their new display name (rooms we named only). */
  async syncDmNames(personId: string): Promise<void> {
    const { store, puppets, matrix } = this.bridge;
    const person = store.persons.get(personId);
    if (!person) return;
    const name = puppets.nameOf(person);
    const puppet = puppets.mxidOf(person.id);
    for (const user of store.users.list()) {
      const portal = store.portals.get(user.mxid, person.id);
      if (!portal || portal.kind !== "dm" || portal.name === null || portal.name === name) continue;
      try {
        await matrix.sendState(puppet, portal.roomId, "m.room.name", "", { name });
        store.portals.update(portal.roomId, { name });
      } catch (e) {
        log.warn("could not rename a DM portal", { room: portal.roomId, error: matrixErrorText(e) });
      }
    }
  }

  /** A merge dropped DM portals (the user already had one with the survivor): point there, retire. */
  private async retireMerged(survivor: PersonRow, merge: PersonMerge): Promise<void> {
    // The merged person's portals now belong to the survivor (or are dropped): forget them here.
    for (const [key, portal] of this.portals) if (portal.id === merge.personId) this.portals.delete(key);
    for (const dropped of merge.droppedPortals) {
      const target = this.bridge.store.portals.get(dropped.receiver, survivor.id)?.roomId;
      const puppet = merge.retiredPuppetMxid ?? this.bridge.puppets.mxidOf(survivor.id);
      if (target) await pointToExisting(this.bridge, dropped.roomId, puppet, target);
    }
  }
}

function describe(e: unknown): string {
  const m = matrixErrorText(e);
  return m === "unknown error" ? errorText(e) : m;
}
