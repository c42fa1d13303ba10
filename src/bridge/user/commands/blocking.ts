// SPDX-License-Identifier: Apache-2.0
/**
 * Blocking on Skype from the management room: `block <id>`, `unblock <id>` and `blocked` (the
 * address book's block list, read when asked). The session contract offers these as optional
 * capabilities (as bridgev2 has optional network interfaces): a session without them gets a clear
 * answer instead of a crash.
 */
import { SoapFaultError } from "../../../skype/errors.js";
import type { Session, SessionManager } from "../../../sessions/types.js";
import type { Store } from "../../../store/types.js";
import { Logger, errorText } from "../../../util/logger.js";
import { fallbackName } from "../../ghosts/puppets.js";
import { requestFailureText } from "../contact-requests.js";
import { sessionOf } from "./contacts.js";
import { pickPerson, type Known } from "./resolve.js";
import { CommandError, type Command, type CommandContext } from "./types.js";

const log = new Logger("bridge.blocking");

/** A person on the block list. */
export interface BlockedPerson {
  mri: string;
  displayName: string;
}

/** The block operations of a session, when it has them. */
export interface BlockingSession {
  blockContact(who: string): Promise<void>;
  unblockContact(who: string): Promise<void>;
  blockedContacts(): Promise<BlockedPerson[]>;
}

/** The session's block operations (an optional capability of the session contract), if any. */
export function blockingOf(session: Session): BlockingSession | undefined {
  if (!session.blockContact || !session.unblockContact || !session.blockedContacts) return undefined;
  return {
    blockContact: (who) => session.blockContact?.(who) ?? Promise.resolve(),
    unblockContact: (who) => session.unblockContact?.(who) ?? Promise.resolve(),
    blockedContacts: () => session.blockedContacts?.() ?? Promise.resolve([]),
  };
}

export interface BlockingCommandDeps {
  sessions: Pick<SessionManager, "get">;
  store: Pick<Store, "pendingRequests">;
}

export class BlockingCommands {
  constructor(private readonly deps: BlockingCommandDeps) {}

  commands(): Command[] {
    return [
      {
        name: "block",
        usage: "block <id>",
        summary: "block someone on Skype (e-mail, Skype name, MRI or a contact's name)",
        example: "block mallory@example.org",
        group: "Blocking",
        args: { min: 1 },
        run: (ctx, args) => this.block(ctx, args.join(" ")),
      },
      {
        name: "unblock",
        usage: "unblock <id>",
        summary: "unblock someone on Skype",
        example: "unblock mallory@example.org",
        group: "Blocking",
        args: { min: 1 },
        run: (ctx, args) => this.unblock(ctx, args.join(" ")),
      },
      {
        name: "blocked",
        usage: "blocked",
        summary: "list the people you blocked on Skype",
        group: "Blocking",
        args: { max: 0 },
        run: (ctx) => this.list(ctx),
      },
    ];
  }

  private ops(ctx: CommandContext): BlockingSession {
    const ops = blockingOf(sessionOf(this.deps.sessions, ctx.sender));
    if (!ops) {
      throw new CommandError("unsupported", "Blocking is not available in this version of the bridge yet.");
    }
    return ops;
  }

  private async block(ctx: CommandContext, query: string): Promise<void> {
    const ops = this.ops(ctx);
    const session = sessionOf(this.deps.sessions, ctx.sender);
    const requesters = this.deps.store.pendingRequests.list(ctx.sender, "pending").map((r): Known => ({
      identities: [r.mri],
      displayName: r.displayName?.trim() || fallbackName(r.mri),
    }));
    const who = pickPerson([...session.contacts(), ...requesters], query, {
      allowUnknown: true,
      listCommand: "contacts",
    });
    await this.run(ctx, "block", who.name, () => ops.blockContact(who.mri));
    await ctx.reply(
      `Blocked ${who.name} (${fallbackName(who.mri)}) on Skype. Send \`unblock ${fallbackName(who.mri)}\` to undo.`,
    );
  }

  private async unblock(ctx: CommandContext, query: string): Promise<void> {
    const ops = this.ops(ctx);
    const blocked = await this.read(ctx, ops);
    const known = blocked.map((b): Known & BlockedPerson => ({ ...b, identities: [b.mri] }));
    const who = pickPerson(known, query, { allowUnknown: true, listCommand: "blocked" });
    await this.run(ctx, "unblock", who.name, () => ops.unblockContact(who.mri));
    await ctx.reply(`Unblocked ${who.name} (${fallbackName(who.mri)}) on Skype.`);
  }

  private async list(ctx: CommandContext): Promise<void> {
    const blocked = await this.read(ctx, this.ops(ctx));
    if (!blocked.length) {
      await ctx.reply("You have not blocked anyone on Skype.");
      return;
    }
    const lines = blocked.map((b) => `• ${b.displayName || fallbackName(b.mri)} (${fallbackName(b.mri)})`);
    await ctx.reply(
      [`You blocked ${blocked.length} on Skype:`, ...lines, "Send `unblock <id>` to unblock someone."].join(
        "\n",
      ),
    );
  }

  private async read(ctx: CommandContext, ops: BlockingSession): Promise<BlockedPerson[]> {
    try {
      return await ops.blockedContacts();
    } catch (e) {
      log.info("reading the block list failed", { user: ctx.sender, error: errorText(e) });
      throw new CommandError("read failed", `Could not read your block list: ${requestFailureText(e)}.`);
    }
  }

  /** Runs a block change, turning Skype's refusals into sentences. */
  private async run(ctx: CommandContext, what: string, name: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      log.info(`${what} failed`, { user: ctx.sender, error: errorText(e) });
      const fault = e instanceof SoapFaultError ? e.faultCode : undefined;
      const why =
        fault === "MemberAlreadyExists"
          ? "they are already blocked"
          : fault === "MemberDoesNotExist"
            ? "they are not blocked"
            : requestFailureText(e);
      throw new CommandError(`${what} failed`, `Could not ${what} ${name}: ${why}.`);
    }
  }
}
