// SPDX-License-Identifier: Apache-2.0
/**
 * Contact requests from the management room: `requests` lists the pending ones (as last read from
 * the address book), `accept <id>` and `decline <id>` answer one. The request's own room, where it
 * was shown, follows as if the answer had been typed there (contact-requests.ts).
 */
import type { SessionManager } from "../../../sessions/types.js";
import type { Store } from "../../../store/types.js";
import { escapeHtml } from "../../convert/index.js";
import { fallbackName } from "../../ghosts/puppets.js";
import type { Answer, ContactRequests } from "../contact-requests.js";
import { codeHtml } from "../reply-format.js";
import { sessionOf } from "./contacts.js";
import { pickPerson, type Known } from "./resolve.js";
import { CommandError, type Command, type CommandContext } from "./types.js";

export interface RequestCommandDeps {
  sessions: Pick<SessionManager, "get">;
  store: Pick<Store, "pendingRequests">;
  requests: Pick<ContactRequests, "answerByCommand">;
}

interface Requester extends Known {
  mri: string;
  message: string | null;
}

export class RequestCommands {
  constructor(private readonly deps: RequestCommandDeps) {}

  commands(): Command[] {
    const answerCommand = (a: Answer): Command => ({
      name: a,
      usage: `${a} <id>`,
      summary:
        a === "accept"
          ? "accept a contact request (e-mail, Skype name, MRI or the requester's name)"
          : "decline a contact request",
      example: `${a} carol@example.org`,
      group: "Contact requests",
      args: { min: 1 },
      run: (ctx, args) => this.answer(ctx, a, args.join(" ")),
    });
    return [
      {
        name: "requests",
        usage: "requests",
        summary: "list the contact requests waiting for your answer",
        group: "Contact requests",
        args: { max: 0 },
        run: (ctx) => this.list(ctx),
      },
      answerCommand("accept"),
      answerCommand("decline"),
    ];
  }

  private pending(mxid: string): Requester[] {
    return this.deps.store.pendingRequests.list(mxid, "pending").map((r) => ({
      mri: r.mri,
      identities: [r.mri],
      displayName: r.displayName?.trim() || fallbackName(r.mri),
      message: r.message,
    }));
  }

  private async list(ctx: CommandContext): Promise<void> {
    sessionOf(this.deps.sessions, ctx.sender);
    const pending = this.pending(ctx.sender);
    if (!pending.length) {
      await ctx.reply("No contact request is waiting for your answer.");
      return;
    }
    const lines = pending.map((r) => {
      const said = r.message?.trim() ? ` — “${r.message.trim()}”` : "";
      return `• ${r.displayName} (${fallbackName(r.mri)})${said}`;
    });
    const first = fallbackName(pending[0]!.mri);
    const text = [
      `Contact requests waiting for your answer (${pending.length}):`,
      ...lines,
      `Answer with \`accept <id>\` or \`decline <id>\`, for example \`accept ${first}\`.`,
    ];
    const html =
      `<p>Contact requests waiting for your answer (${pending.length}):</p><ul>` +
      lines.map((l) => `<li>${escapeHtml(l.slice(2))}</li>`).join("") +
      `</ul><p>${codeHtml(text.at(-1)!)}</p>`;
    await ctx.reply(text.join("\n"), html);
  }

  private async answer(ctx: CommandContext, answer: Answer, query: string): Promise<void> {
    sessionOf(this.deps.sessions, ctx.sender);
    const who = pickPerson(this.pending(ctx.sender), query, { allowUnknown: true, listCommand: "requests" });
    const result = await this.deps.requests.answerByCommand(ctx.sender, who.person?.mri ?? who.mri, answer);
    if (!result.ok) throw new CommandError("answer failed", result.text);
    await ctx.reply(result.text);
  }
}
