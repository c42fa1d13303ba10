// SPDX-License-Identifier: Apache-2.0
/**
 * Starting chats from the management room: `contacts` lists the Skype contacts with their Matrix
 * puppets, `pm <contact>` opens (or re-opens) the DM portal with one, `add-contact <who> [message]`
 * sends a Skype contact request.
 */
import type { Contact } from "../../../skype/model.js";
import type { SessionManager } from "../../../sessions/types.js";
import { Logger, errorText } from "../../../util/logger.js";
import { escapeHtml } from "../../convert/index.js";
import type { Bridge } from "../../bridge.js";
import { CommandError, type Command, type CommandContext } from "./types.js";

const log = new Logger("bridge.contacts");

export interface ContactCommandDeps {
  sessions: SessionManager;
  /** The bridge core: its portals and puppets. */
  bridge: Pick<Bridge, "portals" | "puppets">;
  /** The intent of a puppet, to invite the user back into an existing DM. */
  invite(puppetMxid: string, roomId: string, userId: string): Promise<void>;
}

/** Finds the one contact `query` names: an MRI, e-mail, Skype name, or a unique part of the display name. */
export function findContact(contacts: readonly Contact[], query: string): Contact | Contact[] | undefined {
  const q = query.trim().toLowerCase();
  const exact = contacts.find((c) =>
    c.identities.some((id) => {
      const mri = id.toLowerCase();
      return mri === q || mri.slice(2) === q;
    }),
  );
  if (exact) return exact;
  const byName = contacts.filter((c) => c.displayName.toLowerCase().includes(q));
  if (byName.length === 1) return byName[0];
  return byName.length > 1 ? byName : undefined;
}

export class ContactCommands {
  constructor(private readonly deps: ContactCommandDeps) {}

  commands(): Command[] {
    return [
      {
        name: "contacts",
        usage: "contacts",
        summary: "list your Skype contacts and their Matrix users",
        run: (ctx) => this.list(ctx),
      },
      {
        name: "pm",
        usage: "pm <name, e-mail, Skype name or MRI>",
        summary: "open your chat with a Skype contact",
        run: (ctx, args) => this.pm(ctx, args.join(" ")),
      },
      {
        name: "add-contact",
        usage: "add-contact <e-mail or Skype name> [message]",
        summary: "send a Skype contact request",
        run: (ctx, args) => this.add(ctx, args),
      },
    ];
  }

  private session(ctx: CommandContext) {
    const session = this.deps.sessions.get(ctx.sender);
    if (!session) {
      throw new CommandError(
        "not linked",
        "You are not logged in to Skype. Send `login <e-mail>` or `login` first.",
      );
    }
    return session;
  }

  private async list(ctx: CommandContext): Promise<void> {
    const contacts = [...this.session(ctx).contacts()].sort((a, b) =>
      a.displayName.localeCompare(b.displayName),
    );
    if (!contacts.length) {
      await ctx.reply("Your Skype contact list is empty (or not read yet; try again in a moment).");
      return;
    }
    const { puppets } = this.deps.bridge;
    const rows = contacts.map((c) => {
      const mxid = puppets.mxidOf(puppets.personFor(c.identities[0]!).id);
      return { c, mxid };
    });
    const text = [
      `Your Skype contacts (${contacts.length}); send \`pm <name>\` to chat:`,
      ...rows.map(({ c, mxid }) => `• ${c.displayName} — ${c.identities.join(", ")} — ${mxid}`),
    ].join("\n");
    const html =
      `<p>Your Skype contacts (${contacts.length}); send <code>pm &lt;name&gt;</code> to chat:</p><ul>` +
      rows
        .map(
          ({ c, mxid }) =>
            `<li>${escapeHtml(c.displayName)} — ${escapeHtml(c.identities.join(", "))} — ` +
            `<a href="https://matrix.to/#/${encodeURIComponent(mxid)}">${escapeHtml(mxid)}</a></li>`,
        )
        .join("") +
      "</ul>";
    await ctx.reply(text, html);
  }

  private async pm(ctx: CommandContext, query: string): Promise<void> {
    if (!query.trim()) throw new CommandError("no contact", "Usage: `pm <name, e-mail, Skype name or MRI>`.");
    const found = findContact(this.session(ctx).contacts(), query);
    if (!found) {
      throw new CommandError(
        "unknown contact",
        `No contact matches "${query}". Send \`contacts\` for the list.`,
      );
    }
    if (Array.isArray(found)) {
      throw new CommandError(
        "ambiguous contact",
        `"${query}" matches ${found.map((c) => c.displayName).join(", ")}; be more precise.`,
      );
    }
    const { portals, puppets } = this.deps.bridge;
    const mri = found.identities.find((id) => id.startsWith("8:")) ?? found.identities[0]!;
    const roomId = await portals.ensureDm(ctx.sender, mri);
    const puppet = puppets.mxidOf(puppets.personFor(mri).id);
    // An existing DM the user has left: invite them back (an "already in the room" refusal is fine).
    await this.deps
      .invite(puppet, roomId, ctx.sender)
      .catch((e: unknown) => log.debug("invite back not needed or refused", { error: errorText(e) }));
    await ctx.reply(
      `Your chat with ${found.displayName} is https://matrix.to/#/${roomId} (check your invites).`,
      `Your chat with ${escapeHtml(found.displayName)}: <a href="https://matrix.to/#/${encodeURIComponent(roomId)}">open it</a> (check your invites).`,
    );
  }

  private async add(ctx: CommandContext, args: string[]): Promise<void> {
    const [who, ...rest] = args;
    if (!who) throw new CommandError("no target", "Usage: `add-contact <e-mail or Skype name> [message]`.");
    const session = this.session(ctx);
    try {
      await session.sendContactRequest(who, rest.join(" ") || undefined);
    } catch (e) {
      log.info("contact request failed", { user: ctx.sender, error: errorText(e) });
      const code = (e as { faultCode?: string }).faultCode;
      const why =
        code === "InvalidPassportUser" || code === "UserDoesNotExist"
          ? "Skype does not know that person"
          : code === "ContactAlreadyExists" || code === "MemberAlreadyExists"
            ? "they are already your contact or already asked"
            : "Skype refused the request";
      throw new CommandError("request failed", `Could not send the contact request to ${who}: ${why}.`);
    }
    await ctx.reply(`Sent a contact request to ${who}. Their chat appears here once they accept.`);
  }
}
