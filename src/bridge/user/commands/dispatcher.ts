// SPDX-License-Identifier: Apache-2.0
/** Parses a management-room message into a command and runs it, turning failures into replies. */
import { Logger, errorText } from "../../../util/logger.js";
import { escapeHtml } from "../../convert/index.js";
import { CommandError, type Command, type CommandContext } from "./types.js";

const log = new Logger("bridge.commands");

/** Splits `login  alice@x "two words"` into words, honouring double quotes. */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push(m[1] ?? m[2] ?? "");
  return out;
}

export class CommandDispatcher {
  private readonly commands = new Map<string, Command>();

  constructor(commands: Command[] = []) {
    for (const c of commands) this.add(c);
  }

  add(command: Command): void {
    this.commands.set(command.name, command);
  }

  /** True when `name` is a command (whoever may run it). */
  has(name: string): boolean {
    return this.commands.has(name.toLowerCase());
  }

  list(isAdmin: boolean): Command[] {
    return [...this.commands.values()].filter((c) => isAdmin || !c.adminOnly);
  }

  /** The help text: one line per command the user may run. */
  helpText(isAdmin: boolean): { text: string; html: string } {
    const cmds = this.list(isAdmin);
    const text = [
      "Skype bridge commands (type them here, without a prefix):",
      ...cmds.map((c) => `• ${c.usage} — ${c.summary}`),
    ].join("\n");
    const html =
      "<p>Skype bridge commands (type them here, without a prefix):</p><ul>" +
      cmds.map((c) => `<li><code>${escapeHtml(c.usage)}</code> — ${escapeHtml(c.summary)}</li>`).join("") +
      "</ul>";
    return { text, html };
  }

  /** Runs the command in `body`. Never throws: every failure becomes a reply. */
  async dispatch(ctx: CommandContext, body: string): Promise<void> {
    const words = splitArgs(body.trim().replace(/^!skype\s+/i, ""));
    const name = (words.shift() ?? "").toLowerCase();
    if (!name) return;
    const command = this.commands.get(name);
    try {
      if (!command || (command.adminOnly && !ctx.isAdmin)) {
        const near = this.suggest(name, ctx.isAdmin);
        await ctx.reply(
          `Unknown command "${name}".${near ? ` Did you mean "${near}"?` : ""} Send "help" for the list of commands.`,
        );
        return;
      }
      await command.run(ctx, words);
    } catch (e) {
      if (e instanceof CommandError) {
        await ctx.reply(e.humanMessage).catch(() => undefined);
        return;
      }
      log.error("command failed", { command: name, user: ctx.sender, error: errorText(e) });
      await ctx
        .reply(`Sorry, "${name}" failed because of an internal error. The bridge's log has the details.`)
        .catch(() => undefined);
    }
  }

  private suggest(name: string, isAdmin: boolean): string | undefined {
    let best: { name: string; d: number } | undefined;
    for (const c of this.list(isAdmin)) {
      const d = editDistance(name, c.name);
      if (d <= 2 && (!best || d < best.d)) best = { name: c.name, d };
    }
    return best?.name;
  }
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
