// SPDX-License-Identifier: Apache-2.0
/**
 * Management rooms: a permitted user invites the bot to a direct chat, the bot joins and greets them
 * with help, and from then on the user's plain messages there are commands. A management room is a
 * room with exactly the user and the bot — the password a login asks for must never reach anyone
 * else's client — so the bot refuses (once, then leaves) an invite to any room with a third member
 * that is not a portal, and a management room that someone else joins stops being one. Inviting the
 * bot to a new direct chat moves the management room there.
 */
import type { Intent } from "matrix-appservice-bridge";
import type { Store } from "../../store/types.js";
import { Logger, errorText } from "../../util/logger.js";
import type { CommandDispatcher } from "./commands/dispatcher.js";
import type { CommandContext } from "./commands/types.js";
import { noticeContent } from "./reply-format.js";

const log = new Logger("bridge.management");

/** Commands outside the management room start with this; such messages are never bridged. */
const PREFIX = /^!skype(\s+|$)/i;
/** Commands that involve secrets or the account: only in the management room. */
const PRIVATE_COMMANDS = new Set(["login", "cancel", "logout", "login-matrix", "logout-matrix"]);
/** Commands whose message carries a secret: removed wherever they are sent. */
const SECRET_COMMANDS = new Set(["login-matrix"]);

export interface ManagementRoomStore {
  /** Sets (or with null, forgets) the user's management room. */
  setManagementRoom(mxid: string, roomId: string | null): void;
  /** The user whose management room this is, if it is one. */
  managementRoomOwner(roomId: string): string | undefined;
}

/** Management rooms kept in the store's users table. */
export function managementRoomsFromStore(store: Store): ManagementRoomStore {
  return {
    setManagementRoom: (mxid, roomId) => {
      store.users.upsert(mxid, { managementRoomId: roomId });
    },
    managementRoomOwner: (roomId) => store.users.getByManagementRoom(roomId)?.mxid,
  };
}

export type Permission = "admin" | "user" | "none";

export interface ManagementDeps {
  botIntent: () => Intent;
  botUserId: string;
  store: ManagementRoomStore;
  dispatcher: CommandDispatcher;
  permission(mxid: string): Permission;
  /** Whom a user without permission should ask for access (named in the refusal), if known. */
  accessContact?: string;
  /** Consumes a message before it is read as a command (e.g. a password a login waits for). */
  intercept?(ctx: CommandContext, body: string): Promise<boolean>;
  /** True for the bot and the puppets (their invites are the bridge's own doing). */
  isBridgeUser(mxid: string): boolean;
  /** True when the room is a portal (the bot belongs there whoever else is in it). */
  isPortal(roomId: string): boolean;
  /** The user's management room was lost (someone else joined it): stop anything secret there. */
  onLost?(mxid: string, roomId: string): void;
  /** End-to-bridge encryption is on: encrypted rooms are readable, so they are accepted. */
  encryptionEnabled?: boolean;
}

interface MemberEvent {
  room_id: string;
  sender: string;
  state_key?: string;
  event_id: string;
  content: { membership?: string; is_direct?: boolean; body?: unknown; msgtype?: unknown };
}

export class ManagementRooms {
  constructor(private readonly deps: ManagementDeps) {}

  /**
   * Handles membership: the bot being invited (returns true), or someone other than the owner
   * joining a management room (which then stops being one; returns false so the event goes on).
   */
  async onMembership(ev: MemberEvent): Promise<boolean> {
    if (ev.state_key !== this.deps.botUserId) {
      await this.onOtherMember(ev);
      return false;
    }
    if (ev.content.membership !== "invite") return false;
    // The bridge invites its bot to the portals it creates; it joins those itself.
    if (this.deps.isBridgeUser(ev.sender)) return true;
    const bot = this.deps.botIntent();
    const perm = this.deps.permission(ev.sender);
    if (perm === "none") {
      log.info("refusing an invite from a user without permission", { user: ev.sender, room: ev.room_id });
      await this.refuse(ev.room_id, refusalText(this.deps.accessContact));
      return true;
    }
    await bot.join(ev.room_id);
    if (this.deps.isPortal(ev.room_id)) return true;
    if (!this.deps.encryptionEnabled && (await this.isEncrypted(ev.room_id))) {
      log.info("refusing an encrypted room (the bridge cannot read it)", { room: ev.room_id });
      await this.refuse(
        ev.room_id,
        "I cannot read encrypted rooms: this bridge has no end-to-bridge encryption yet, so I would never see your commands here. Start a new direct chat with me with encryption turned off.",
      );
      return true;
    }
    const others = await this.othersIn(ev.room_id, ev.sender);
    if (others !== 0) {
      log.info("refusing a room that is not a direct chat with the bot", { room: ev.room_id, others });
      await this.refuse(
        ev.room_id,
        "I only work in a direct chat with just you and me, so that nobody else reads along (a login asks for your password). Start a new direct chat with me and invite nobody else.",
      );
      return true;
    }
    this.deps.store.setManagementRoom(ev.sender, ev.room_id);
    log.info("management room set", { user: ev.sender, room: ev.room_id });
    const help = this.deps.dispatcher.helpText(perm === "admin");
    await this.notice(
      ev.room_id,
      `Hello! I am the Skype bridge bot. This room is where you manage your Skype connection.\n\n${help.text}`,
      `<p>Hello! I am the Skype bridge bot. This room is where you manage your Skype connection.</p>${help.html}`,
    );
    return true;
  }

  /** How many members (joined or invited) the room has besides `user` and the bot; -1 when unknown. */
  private async othersIn(roomId: string, user: string): Promise<number> {
    try {
      const members = await this.deps
        .botIntent()
        .matrixClient.getRoomMembers(roomId, undefined, ["join", "invite"]);
      const ids = new Set(members.map((m) => m.membershipFor));
      if (!ids.has(user)) return -1;
      return [...ids].filter((id) => id !== user && id !== this.deps.botUserId).length;
    } catch (e) {
      log.warn("could not read a room's members", { room: roomId, error: errorText(e) });
      return -1;
    }
  }

  /** True when the room has `m.room.encryption` state (false when that cannot be told). */
  private async isEncrypted(roomId: string): Promise<boolean> {
    try {
      await this.deps.botIntent().matrixClient.getRoomStateEvent(roomId, "m.room.encryption", "");
      return true;
    } catch {
      // M_NOT_FOUND: not encrypted. Anything else: the room's messages will show whether we can read them.
      return false;
    }
  }

  /** True when the bot's power level reaches the room's `redact` level. */
  private async canRedact(roomId: string): Promise<boolean> {
    try {
      const pl = (await this.deps
        .botIntent()
        .matrixClient.getRoomStateEvent(roomId, "m.room.power_levels", "")) as {
        users?: Record<string, unknown>;
        users_default?: unknown;
        redact?: unknown;
      };
      const mine = pl.users?.[this.deps.botUserId] ?? pl.users_default ?? 0;
      const needed = pl.redact ?? 50;
      return typeof mine === "number" && typeof needed === "number" && mine >= needed;
    } catch {
      return false;
    }
  }

  /** Says why once, then leaves. */
  private async refuse(roomId: string, text: string): Promise<void> {
    const bot = this.deps.botIntent();
    await bot.join(roomId).catch(() => undefined);
    await bot.sendMessage(roomId, { msgtype: "m.notice", body: text }).catch(() => undefined);
    // Not `Intent.leave`: it goes through bot-sdk's Intent.leaveRoom, whose ensureRegistered tries
    // to register the appservice's own sender, which Synapse answers with a 500, so the bot stayed.
    await bot.matrixClient
      .leaveRoom(roomId)
      .catch((e: unknown) => log.warn("could not leave a room", { room: roomId, error: errorText(e) }));
  }

  /** Someone else joined or was invited to a user's management room: it is no longer private. */
  private async onOtherMember(ev: MemberEvent): Promise<void> {
    const target = ev.state_key;
    const m = ev.content.membership;
    if (target === undefined || (m !== "join" && m !== "invite")) return;
    const owner = this.deps.store.managementRoomOwner(ev.room_id);
    if (owner === undefined || owner === target) return;
    log.info("someone else entered a management room; it is no longer one", {
      user: owner,
      room: ev.room_id,
    });
    this.deps.store.setManagementRoom(owner, null);
    this.deps.onLost?.(owner, ev.room_id);
    await this.refuse(
      ev.room_id,
      "Someone else is in this room now, so it is no longer where you manage your Skype connection (any login waiting here was cancelled). Start a new direct chat with me, with nobody else in it.",
    );
  }

  /**
   * Handles a message; returns true when it was a command (any message in the sender's management
   * room, or a `!skype …` message elsewhere, e.g. in a portal, which is then not bridged).
   */
  async onMessage(ev: MemberEvent): Promise<boolean> {
    if (ev.sender === this.deps.botUserId) return false;
    const owner = this.deps.store.managementRoomOwner(ev.room_id);
    const body = typeof ev.content.body === "string" ? ev.content.body : "";
    if (owner !== ev.sender) return this.onPrefixedCommand(ev, body);
    if (ev.content.msgtype !== "m.text" || !body.trim()) return true;
    const perm = this.deps.permission(ev.sender);
    if (perm === "none") {
      await this.notice(ev.room_id, "You are no longer allowed to use this bridge.");
      return true;
    }
    const ctx = this.commandContext(ev, perm);
    if (this.deps.intercept && (await this.deps.intercept(ctx, body))) return true;
    await this.deps.dispatcher.dispatch(ctx, body);
    return true;
  }

  /** `!skype <command>` outside the management room: run it there, except sign-in, which is private. */
  private async onPrefixedCommand(ev: MemberEvent, body: string): Promise<boolean> {
    if (ev.content.msgtype !== "m.text" || !PREFIX.test(body)) return false;
    const perm = this.deps.permission(ev.sender);
    if (perm === "none") return false;
    const ctx = this.commandContext(ev, perm);
    const name = body.replace(PREFIX, "").trim().split(/\s+/)[0]?.toLowerCase() ?? "";
    if (PRIVATE_COMMANDS.has(name)) {
      if (SECRET_COMMANDS.has(name)) {
        await this.deps
          .botIntent()
          .matrixClient.redactEvent(ev.room_id, ev.event_id, "secret")
          .catch((e: unknown) =>
            log.warn("could not redact a secret sent outside the management room", {
              room: ev.room_id,
              error: errorText(e),
            }),
          );
      }
      await ctx.reply(
        `"${name}" only works in your management room (your direct chat with me), where nobody else reads along.`,
      );
      return true;
    }
    await this.deps.dispatcher.dispatch(ctx, body);
    return true;
  }

  private commandContext(ev: MemberEvent, perm: Permission): CommandContext {
    return {
      sender: ev.sender,
      roomId: ev.room_id,
      eventId: ev.event_id,
      isAdmin: perm === "admin",
      reply: (text, html) => this.notice(ev.room_id, text, html),
      canRedact: () => this.canRedact(ev.room_id),
    };
  }

  /** True when the user may use the bridge at all (events of others are not handled). */
  permitted(mxid: string): boolean {
    return this.deps.permission(mxid) !== "none";
  }

  async notice(roomId: string, text: string, html?: string): Promise<void> {
    const content = noticeContent(text, html);
    try {
      await this.deps.botIntent().sendMessage(roomId, content);
    } catch (e) {
      log.warn("could not send a notice", { room: roomId, error: errorText(e) });
      throw e;
    }
  }
}

/** The one polite refusal a user without permission gets, naming whom to ask when known. */
export function refusalText(contact: string | undefined): string {
  const ask = contact
    ? `To get access, ask ${contact}.`
    : "To get access, ask the admin of this bridge to add you to its permissions.";
  return `Sorry, you are not allowed to use this Skype bridge. ${ask} I am leaving this room now.`;
}
