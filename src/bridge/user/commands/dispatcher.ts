// SPDX-License-Identifier: Apache-2.0
/**
 * Parses a command message and runs it, turning every failure into a reply: an unknown command
 * gets the closest one, wrong arguments the usage line with an example, an admin command from a
 * non-admin one refusal, an internal error a sentence pointing at the log. Nothing fails silently.
 */
import { Logger, errorText } from "../../../util/logger.js";
import { escapeHtml } from "../../convert/index.js";
import { COMMAND_GROUPS, CommandError, UsageError, type Command, type CommandContext } from "./types.js";

const log = new Logger("bridge.commands");

/** Splits `login  alice@x "two words"` into words, honouring double quotes. */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push(m[1] ?? m[2] ?? "");
  return out;
}

/** The answer to an admin command from someone who is not an admin. */
export const ADMIN_REFUSAL = "Sorry, admin commands are only for the bridge's admins.";

/** The usage line (and the example, when it differs) of a command. */
export function usageText(c: Command): string {
  const example = c.example && c.example !== c.usage ? `, for example \`${c.example}\`` : "";
  return `Usage: \`${c.usage}\`${example}.`;
}

export class CommandDispatcher {
  private readonly commands = new Map<string, Command>();
  private readonly aliases = new Map<string, string>();

  constructor(commands: Command[] = []) {
    for (const c of commands) this.add(c);
  }

  add(command: Command): void {
    this.commands.set(command.name, command);
    for (const a of command.aliases ?? []) this.aliases.set(a, command.name);
  }

  /** True when `name` is a command or an alias (whoever may run it). */
  has(name: string): boolean {
    const n = name.toLowerCase();
    return this.commands.has(n) || this.aliases.has(n) || n === "admin";
  }

  list(isAdmin: boolean): Command[] {
    return [...this.commands.values()].filter((c) => isAdmin || !c.adminOnly);
  }

  /** The help text: the commands the user may run, by group, each with one example. */
  helpText(isAdmin: boolean): { text: string; html: string } {
    const cmds = this.list(isAdmin);
    const text: string[] = ["Skype bridge commands (type them here, without a prefix):"];
    let html = "<p>Skype bridge commands (type them here, without a prefix):</p>";
    for (const group of COMMAND_GROUPS) {
      const inGroup = cmds.filter((c) => (c.group ?? "General") === group);
      if (!inGroup.length) continue;
      text.push(`${group}:`, ...inGroup.map((c) => `• ${c.usage} — ${c.summary}${exampleText(c)}`));
      html += `<p><strong>${escapeHtml(group)}</strong></p><ul>${inGroup.map(helpItemHtml).join("")}</ul>`;
    }
    text.push("In any other room with me, start a command with `!skype` (for example `!skype whoami`).");
    html +=
      "<p>In any other room with me, start a command with <code>!skype</code> (for example <code>!skype whoami</code>).</p>";
    return { text: text.join("\n"), html };
  }

  /** Runs the command in `body`. Never throws: every failure becomes a reply. */
  async dispatch(ctx: CommandContext, body: string): Promise<void> {
    const words = splitArgs(body.trim().replace(/^!skype(\s+|$)/i, ""));
    const first = (words[0] ?? "").toLowerCase();
    if (!first) return this.safeReply(ctx, () => this.help(ctx));
    if (first === "admin" && !ctx.isAdmin) return this.safeReply(ctx, () => ctx.reply(ADMIN_REFUSAL));
    const found = this.lookup(words);
    if (!found) return this.safeReply(ctx, () => this.unknown(ctx, words));
    const { command, args } = found;
    try {
      if (command.adminOnly && !ctx.isAdmin) {
        await ctx.reply(ADMIN_REFUSAL);
        return;
      }
      const { min = 0, max = Infinity } = command.args ?? {};
      if (args.length < min || args.length > max) throw new UsageError();
      await command.run(ctx, args);
    } catch (e) {
      await this.failed(ctx, command, e);
    }
  }

  /** The command `words` start with (one word, or `admin <word>`) and its arguments. */
  private lookup(words: readonly string[]): { command: Command; args: string[] } | undefined {
    const first = (words[0] ?? "").toLowerCase();
    if (first === "admin") {
      const command = this.commands.get(`admin ${(words[1] ?? "").toLowerCase()}`);
      return command && { command, args: words.slice(2) };
    }
    const command = this.commands.get(this.aliases.get(first) ?? first);
    return command && !command.name.includes(" ") ? { command, args: words.slice(1) } : undefined;
  }

  private async help(ctx: CommandContext): Promise<void> {
    const { text, html } = this.helpText(ctx.isAdmin);
    await ctx.reply(text, html);
  }

  private async unknown(ctx: CommandContext, words: readonly string[]): Promise<void> {
    const first = (words[0] ?? "").toLowerCase();
    if (first === "admin") {
      const names = this.list(true).filter((c) => c.adminOnly);
      const sub = words[1] ? `Unknown admin command "${words[1]}". ` : "";
      await ctx.reply(`${sub}Admin commands: ${names.map((c) => `\`${c.usage}\``).join(", ")}.`);
      return;
    }
    const near = this.suggest(first, ctx.isAdmin);
    await ctx.reply(
      `Unknown command "${first}".${near ? ` Did you mean "${near}"?` : ""} Send "help" for the list of commands.`,
    );
  }

  private async failed(ctx: CommandContext, command: Command, e: unknown): Promise<void> {
    if (e instanceof UsageError) {
      const why = e.humanMessage ? `${e.humanMessage} ` : "";
      await ctx.reply(`${why}${usageText(command)}`).catch(() => undefined);
      return;
    }
    if (e instanceof CommandError) {
      await ctx.reply(e.humanMessage).catch(() => undefined);
      return;
    }
    log.error("command failed", { command: command.name, user: ctx.sender, error: errorText(e) });
    await ctx
      .reply(
        `Sorry, "${command.name}" failed because of an internal error. The bridge's log has the details.`,
      )
      .catch(() => undefined);
  }

  /** Replies, logging (never throwing) when even the reply fails. */
  private async safeReply(ctx: CommandContext, fn: () => Promise<void>): Promise<void> {
    await fn().catch((e: unknown) =>
      log.warn("could not answer a command", { user: ctx.sender, error: errorText(e) }),
    );
  }

  private suggest(name: string, isAdmin: boolean): string | undefined {
    let best: { name: string; d: number } | undefined;
    const names = this.list(isAdmin).flatMap((c) => [c.name, ...(c.aliases ?? [])]);
    for (const candidate of names.filter((n) => !n.includes(" "))) {
      const d = editDistance(name, candidate);
      if (d <= 2 && (!best || d < best.d)) best = { name: candidate, d };
    }
    return best?.name;
  }
}

function exampleText(c: Command): string {
  return c.example && c.example !== c.usage ? ` (e.g. ${c.example})` : "";
}

function helpItemHtml(c: Command): string {
  const example = c.example && c.example !== c.usage ? ` (e.g. <code>${escapeHtml(c.example)}</code>)` : "";
  const summary = escapeHtml(c.summary).replace(/`([^`]+)`/g, "<code>$1</code>");
  return `<li><code>${escapeHtml(c.usage)}</code> — ${summary}${example}</li>`;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
