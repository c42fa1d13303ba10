// SPDX-License-Identifier: Apache-2.0
/**
 * Starting chats from the management room: `contacts [search]` lists the Skype contacts with their
 * Matrix puppets (a page at a time), `pm <contact>` (or `start-chat`) opens (or re-opens) the DM
 * portal with one, `add-contact <who> [message]` sends a Skype contact request.
 */
import type { Contact } from "../../../skype/model.js";
import type { Session, SessionManager } from "../../../sessions/types.js";
import { Logger, errorText } from "../../../util/logger.js";
import type { Bridge } from "../../bridge.js";
import { escapeHtml } from "../../convert/index.js";
import { openDm } from "../open-dm.js";
import { pickPerson, resolveId } from "./resolve.js";
import { CommandError, UsageError, type Command, type CommandContext } from "./types.js";

const log = new Logger("bridge.contacts");

/** Contacts per page of `contacts`. */
export const CONTACTS_PAGE_SIZE = 25;

export interface ContactCommandDeps {
  sessions: Pick<SessionManager, "get">;
  /** The bridge core: its portals, puppets, store and Matrix calls. */
  bridge: Pick<Bridge, "portals" | "puppets" | "store" | "matrix">;
}

/** Finds the one contact `query` names: an MRI, e-mail, Skype name, or a unique part of the display name. */
export function findContact(contacts: readonly Contact[], query: string): Contact | Contact[] | undefined {
  const r = resolveId(contacts, query);
  return r.kind === "known" ? r.person : r.kind === "ambiguous" ? r.matches : undefined;
}

/** The user's running session, or the "log in first" error. */
export function sessionOf(sessions: Pick<SessionManager, "get">, mxid: string): Session {
  const session = sessions.get(mxid);
  if (!session) {
    throw new CommandError(
      "not linked",
      "You are not logged in to Skype. Send `login <e-mail>` or `login` first.",
    );
  }
  return session;
}

/** Splits `contacts` arguments into the search words and the page (`… page 2`). */
export function parseListArgs(args: readonly string[]): { search: string; page: number } {
  const words = [...args];
  let page = 1;
  if (words.length >= 2 && words.at(-2)?.toLowerCase() === "page") {
    const n = Number(words.at(-1));
    if (!Number.isInteger(n) || n < 1) throw new UsageError("The page must be a number from 1.");
    page = n;
    words.splice(-2, 2);
  }
  return { search: words.join(" ").trim(), page };
}

export class ContactCommands {
  constructor(private readonly deps: ContactCommandDeps) {}

  commands(): Command[] {
    return [
      {
        name: "contacts",
        usage: "contacts [search] [page <n>]",
        summary: "list your Skype contacts and their Matrix users (a page at a time)",
        example: "contacts bob",
        group: "Contacts",
        run: (ctx, args) => this.list(ctx, args),
      },
      {
        name: "pm",
        aliases: ["start-chat"],
        usage: "pm <contact>",
        summary: "open your chat with a Skype contact (name, e-mail, Skype name or MRI); also `start-chat`",
        example: "pm Bob",
        group: "Contacts",
        args: { min: 1 },
        run: (ctx, args) => this.pm(ctx, args.join(" ")),
      },
      {
        name: "add-contact",
        usage: "add-contact <e-mail or Skype name> [message]",
        summary: "send a Skype contact request",
        example: "add-contact bob@example.org Hi, it's Alice",
        group: "Contacts",
        args: { min: 1 },
        run: (ctx, args) => this.add(ctx, args),
      },
    ];
  }

  private async list(ctx: CommandContext, args: string[]): Promise<void> {
    const { search, page } = parseListArgs(args);
    const all = sessionOf(this.deps.sessions, ctx.sender).contacts();
    if (!all.length) {
      await ctx.reply("Your Skype contact list is empty (or not read yet; try again in a moment).");
      return;
    }
    const q = search.toLowerCase();
    const contacts = all
      .filter(
        (c) =>
          !q ||
          c.displayName.toLowerCase().includes(q) ||
          c.identities.some((i) => i.toLowerCase().includes(q)),
      )
      .sort((a, b) => a.displayName.localeCompare(b.displayName));
    if (!contacts.length) {
      await ctx.reply(`None of your ${all.length} Skype contacts matches "${search}".`);
      return;
    }
    const pages = Math.ceil(contacts.length / CONTACTS_PAGE_SIZE);
    if (page > pages)
      throw new CommandError("no such page", `There ${pages === 1 ? "is 1 page" : `are ${pages} pages`}.`);
    const shown = contacts.slice((page - 1) * CONTACTS_PAGE_SIZE, page * CONTACTS_PAGE_SIZE);
    await this.sendPage(ctx, { shown, total: contacts.length, search, page, pages });
  }

  private async sendPage(
    ctx: CommandContext,
    p: { shown: Contact[]; total: number; search: string; page: number; pages: number },
  ): Promise<void> {
    const { puppets } = this.deps.bridge;
    const rows = p.shown.map((c) => ({ c, mxid: puppets.mxidOf(puppets.personFor(c.identities[0]!).id) }));
    const what = p.search ? `Your Skype contacts matching "${p.search}"` : "Your Skype contacts";
    const pageNote = p.pages > 1 ? `, page ${p.page} of ${p.pages}` : "";
    const header = `${what} (${p.total})${pageNote}; send \`pm <name>\` to chat:`;
    const next =
      p.page < p.pages
        ? `Send \`contacts ${p.search ? `${p.search} ` : ""}page ${p.page + 1}\` for more.`
        : "";
    const text = [
      header,
      ...rows.map(({ c, mxid }) => `• ${c.displayName} — ${c.identities.join(", ")} — ${mxid}`),
    ];
    if (next) text.push(next);
    const code = (s: string): string => escapeHtml(s).replace(/`([^`]+)`/g, "<code>$1</code>");
    const html =
      `<p>${code(header)}</p><ul>` +
      rows
        .map(
          ({ c, mxid }) =>
            `<li>${escapeHtml(c.displayName)} — ${escapeHtml(c.identities.join(", "))} — ` +
            `<a href="https://matrix.to/#/${encodeURIComponent(mxid)}">${escapeHtml(mxid)}</a></li>`,
        )
        .join("") +
      "</ul>" +
      (next ? `<p>${code(next)}</p>` : "");
    await ctx.reply(text.join("\n"), html);
  }

  private async pm(ctx: CommandContext, query: string): Promise<void> {
    const contacts = sessionOf(this.deps.sessions, ctx.sender).contacts();
    const r = resolveId(contacts, query);
    if (r.kind === "none" || r.kind === "identity") {
      throw new CommandError(
        "unknown contact",
        `No contact matches "${query}". Send \`contacts\` for the list.`,
      );
    }
    const found = pickPerson(contacts, query, { allowUnknown: false, listCommand: "contacts" });
    const { roomId } = await openDm(this.deps.bridge, ctx.sender, found.mri);
    await ctx.reply(
      `Your chat with ${found.name} is https://matrix.to/#/${roomId} (check your invites).`,
      `Your chat with ${escapeHtml(found.name)}: <a href="https://matrix.to/#/${encodeURIComponent(roomId)}">open it</a> (check your invites).`,
    );
  }

  private async add(ctx: CommandContext, args: string[]): Promise<void> {
    const [who, ...rest] = args;
    if (!who) throw new UsageError();
    const session = sessionOf(this.deps.sessions, ctx.sender);
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
