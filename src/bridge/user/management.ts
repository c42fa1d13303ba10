// SPDX-License-Identifier: Apache-2.0
/**
 * Management rooms: a permitted user invites the bot to a DM, the bot joins and greets them with
 * help, and from then on the user's plain messages there are commands.
 */
import type { Intent } from "matrix-appservice-bridge";
import type { Store } from "../../store/types.js";
import { Logger, errorText } from "../../util/logger.js";
import type { CommandDispatcher } from "./commands/dispatcher.js";
import type { CommandContext } from "./commands/types.js";

const log = new Logger("bridge.management");

/** Commands outside the management room start with this; such messages are never bridged. */
const PREFIX = /^!skype(\s+|$)/i;
/** Commands that involve secrets or the account: only in the management room. */
const PRIVATE_COMMANDS = new Set(["login", "cancel", "logout"]);

export interface ManagementRoomStore {
  setManagementRoom(mxid: string, roomId: string): void;
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
  /** Consumes a message before it is read as a command (e.g. a password a login waits for). */
  intercept?(ctx: CommandContext, body: string): Promise<boolean>;
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

  /** Handles the bot being invited. Returns true when the event was about the bot. */
  async onMembership(ev: MemberEvent): Promise<boolean> {
    if (ev.state_key !== this.deps.botUserId || ev.content.membership !== "invite") return false;
    const bot = this.deps.botIntent();
    const perm = this.deps.permission(ev.sender);
    if (perm === "none") {
      log.info("refusing an invite from a user without permission", { user: ev.sender, room: ev.room_id });
      await bot.join(ev.room_id).catch(() => undefined);
      await bot
        .sendMessage(ev.room_id, {
          msgtype: "m.notice",
          body: "Sorry, you are not allowed to use this Skype bridge. Ask the bridge's admin to add you to its permissions.",
        })
        .catch(() => undefined);
      await bot.leave(ev.room_id).catch(() => undefined);
      return true;
    }
    await bot.join(ev.room_id);
    const members = await bot.matrixClient.getJoinedRoomMembers(ev.room_id).catch(() => [] as string[]);
    if (ev.content.is_direct === false && members.length > 2) {
      log.info("joined a room that is not a DM; it is not a management room", { room: ev.room_id });
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
    };
  }

  async notice(roomId: string, text: string, html?: string): Promise<void> {
    const content: Record<string, unknown> = { msgtype: "m.notice", body: text };
    if (html) {
      content.format = "org.matrix.custom.html";
      content.formatted_body = html;
    }
    try {
      await this.deps.botIntent().sendMessage(roomId, content);
    } catch (e) {
      log.warn("could not send a notice", { room: roomId, error: errorText(e) });
      throw e;
    }
  }
}
