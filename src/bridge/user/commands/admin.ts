// SPDX-License-Identifier: Apache-2.0
/**
 * Admin commands (admins per the config's permissions; the dispatcher refuses everyone else once):
 * `admin status`, `admin users`, `admin reconnect|logout|login|resync <mxid>` and `admin broadcast`.
 * `admin delete-portal` is in admin-portal.ts. Acting on a user goes through the same steps as the
 * user's own command, and the user is told when an admin changed their account.
 */
import type { SessionManager } from "../../../sessions/types.js";
import type { Store } from "../../../store/types.js";
import type { ActivityLog } from "../activity.js";
import type { AccountCommands } from "./account.js";
import { adminOverview, adminUserLines, type OverviewDeps } from "./admin-report.js";
import type { ConnectionCommands } from "./connection.js";
import { CommandError, UsageError, type Command, type CommandContext } from "./types.js";

export interface AdminDeps extends OverviewDeps {
  store: Store;
  sessions: Pick<SessionManager, "get" | "unlink">;
  activity: Pick<ActivityLog, "last">;
  account: Pick<AccountCommands, "startFor" | "forget">;
  connection: Pick<ConnectionCommands, "reconnect" | "sync">;
  permission(mxid: string): "admin" | "user" | "none";
  /** A notice (or with `alert`, a notifying message) in the user's management room, if any. */
  notifyUser(mxid: string, text: string, opts?: { alert?: boolean }): Promise<void>;
}

const MXID = /^@[^:\s]+:\S+$/;

/** The one argument of a per-user admin command, checked to be a Matrix id. */
function target(args: readonly string[]): string {
  const mxid = args[0] ?? "";
  if (!MXID.test(mxid)) throw new UsageError(mxid ? `"${mxid}" is not a Matrix user id.` : "");
  return mxid;
}

export class AdminCommands {
  constructor(private readonly deps: AdminDeps) {}

  commands(): Command[] {
    const admin = (c: Omit<Command, "adminOnly" | "group">): Command => ({
      ...c,
      adminOnly: true,
      group: "Admin",
    });
    return [
      admin({
        name: "admin status",
        usage: "admin status",
        summary: "version, uptime, sessions by state, portals, puppets and queues",
        args: { max: 0 },
        run: (ctx) => ctx.reply(adminOverview(this.deps)),
      }),
      admin({
        name: "admin users",
        usage: "admin users",
        summary: "every linked user: identities, bridge state and last activity",
        args: { max: 0 },
        run: (ctx) => this.users(ctx),
      }),
      ...this.perUser(),
      admin({
        name: "admin broadcast",
        usage: "admin broadcast <text>",
        summary: "send a notice to every user's management room",
        example: "admin broadcast The bridge restarts at 22:00.",
        args: { min: 1 },
        run: (ctx, args) => this.broadcast(ctx, args.join(" ")),
      }),
    ];
  }

  private perUser(): Command[] {
    const admin = (c: Omit<Command, "adminOnly" | "group">): Command => ({
      ...c,
      adminOnly: true,
      group: "Admin",
    });
    return [
      admin({
        name: "admin reconnect",
        usage: "admin reconnect <mxid>",
        summary: "give a user's Skype session a fresh connection",
        example: "admin reconnect @alice:example.org",
        args: { min: 1, max: 1 },
        run: (ctx, args) => this.deps.connection.reconnect(ctx, target(args)),
      }),
      admin({
        name: "admin logout",
        usage: "admin logout <mxid>",
        summary: "unlink a user's Skype account and forget its tokens (the user is told)",
        example: "admin logout @alice:example.org",
        args: { min: 1, max: 1 },
        run: (ctx, args) => this.logout(ctx, target(args)),
      }),
      admin({
        name: "admin login",
        usage: "admin login <mxid> [e-mail]",
        summary: "start a login for a user: they get the prompt in their management room",
        example: "admin login @alice:example.org alice@example.org",
        args: { min: 1, max: 2 },
        run: (ctx, args) => this.login(ctx, target(args), args[1]),
      }),
      admin({
        name: "admin resync",
        usage: "admin resync <mxid>",
        summary: "re-read a user's Skype contacts and address book",
        example: "admin resync @alice:example.org",
        args: { min: 1, max: 1 },
        run: (ctx, args) => this.deps.connection.sync(ctx, target(args)),
      }),
    ];
  }

  private async users(ctx: CommandContext): Promise<void> {
    const lines = adminUserLines(this.deps);
    if (!lines.length) {
      await ctx.reply("No Matrix user has linked a Skype account yet.");
      return;
    }
    await ctx.reply([`Linked users (${lines.length}):`, ...lines].join("\n"));
  }

  private async logout(ctx: CommandContext, mxid: string): Promise<void> {
    const row = this.deps.store.users.get(mxid);
    if (!this.deps.sessions.get(mxid) && !row?.skypeMri && !row?.liveMri && !row?.hasRefreshToken) {
      throw new CommandError("not linked", `${mxid} is not logged in to Skype.`);
    }
    this.deps.account.forget(mxid);
    await this.deps.sessions.unlink(mxid);
    await this.deps
      .notifyUser(
        mxid,
        "An admin of this bridge logged you out of Skype; the bridge has forgotten your tokens. Send `login` to link an account again.",
        { alert: true },
      )
      .catch(() => undefined);
    await ctx.reply(`Logged ${mxid} out of Skype and forgot their tokens; they have been told.`);
  }

  private async login(ctx: CommandContext, mxid: string, email: string | undefined): Promise<void> {
    if (email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(email)) {
      throw new UsageError(`"${email}" is not an e-mail address.`);
    }
    if (this.deps.permission(mxid) === "none") {
      throw new CommandError(
        "no permission",
        `${mxid} is not allowed to use this bridge (see the permissions).`,
      );
    }
    const roomId = this.deps.store.users.get(mxid)?.managementRoomId;
    if (!roomId) {
      throw new CommandError(
        "no management room",
        `${mxid} has no management room: ask them to start a direct chat with me first.`,
      );
    }
    if (!(await this.deps.account.startFor(mxid, roomId, email))) {
      throw new CommandError("login waiting", `A login already waits for ${mxid}'s answer.`);
    }
    const how = email ? `a password login for ${email}` : "a browser login";
    await ctx.reply(`Started ${how}: ${mxid} has the prompt in their management room.`);
  }

  private async broadcast(ctx: CommandContext, text: string): Promise<void> {
    const users = this.deps.store.users.list().filter((u) => u.managementRoomId !== null);
    let sent = 0;
    for (const u of users) {
      try {
        await this.deps.notifyUser(u.mxid, `Message from the bridge's admin: ${text}`);
        sent++;
      } catch {
        // Counted as not sent; the others still get it.
      }
    }
    await ctx.reply(`Sent to ${sent} of ${users.length} management rooms.`);
  }
}
