// SPDX-License-Identifier: Apache-2.0
/**
 * `login-matrix <access token>` and `logout-matrix`: double puppeting with the user's own token
 * (mautrix's commands of the same names). The token is a secret: the message carrying it is
 * redacted before anything else happens (also when the command is used wrongly), it is checked
 * with `whoami`, stored encrypted, and never quoted in a reply or a log line.
 */
import { errorText, Logger } from "../../../util/logger.js";
import { DoublePuppetError, type DoublePuppets } from "../../matrix/double-puppet.js";
import { CommandError, UsageError, type Command, type CommandContext } from "./types.js";

const log = new Logger("bridge.commands.double-puppet");

export interface DoublePuppetCommandDeps {
  doublePuppets: DoublePuppets;
  /** Redacts a message as the bot. */
  redact(roomId: string, eventId: string, reason: string): Promise<void>;
}

export function doublePuppetCommands(deps: DoublePuppetCommandDeps): Command[] {
  const { doublePuppets } = deps;
  const removeToken = async (ctx: CommandContext): Promise<void> => {
    try {
      await deps.redact(ctx.roomId, ctx.eventId, "access token");
    } catch (e) {
      log.warn("could not redact a login-matrix message", { room: ctx.roomId, error: errorText(e) });
      await ctx.reply(
        "I could not delete your message with the access token; please delete it yourself, and consider logging that session out.",
      );
    }
  };
  return [
    {
      name: "login-matrix",
      usage: "login-matrix <access token>",
      example: "login-matrix syt_YWxpY2U_…",
      summary:
        "Double puppeting: your messages from other Skype devices appear as your own Matrix account (the token of a session of yours; the message is deleted at once)",
      group: "Account",
      async run(ctx, args) {
        // First of all: the message holds a secret, whatever else is wrong with it.
        await removeToken(ctx);
        if (args.length !== 1 || args[0] === "") throw new UsageError("Give exactly one access token.");
        try {
          await doublePuppets.login(ctx.sender, args[0]!);
        } catch (e) {
          if (e instanceof DoublePuppetError)
            throw new CommandError(e.code, `Login failed: ${e.message}. Nothing was stored.`);
          throw e;
        }
        await ctx.reply(
          "Double puppeting is on: what you send from your other Skype devices now appears as your own Matrix account, and reading there marks your rooms read here.",
        );
      },
    },
    {
      name: "logout-matrix",
      usage: "logout-matrix",
      summary: "Stop double puppeting with the access token you gave (forgets it)",
      group: "Account",
      args: { max: 0 },
      async run(ctx) {
        const had = doublePuppets.logout(ctx.sender);
        const still = doublePuppets.mode(ctx.sender) === "secret";
        const first = had ? "I forgot your access token." : "You had not given me an access token.";
        const then = still
          ? " This homeserver's double puppeting still applies (the bridge's admin configured it)."
          : ' Your messages from other Skype devices appear as your "(you, on Skype)" puppet again.';
        await ctx.reply(first + then);
      },
    },
  ];
}
