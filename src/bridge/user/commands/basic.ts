// SPDX-License-Identifier: Apache-2.0
/** Commands every bridge has: help, version, ping. */
import type { CommandDispatcher } from "./dispatcher.js";
import type { Command } from "./types.js";
import type { PingResult } from "../../matrix/homeserver-ping.js";

export interface BasicCommandDeps {
  dispatcher: CommandDispatcher;
  version: string;
  /** MSC2659 round trip: asks the homeserver to call the bridge. */
  ping(): Promise<PingResult>;
}

export function basicCommands(deps: BasicCommandDeps): Command[] {
  return [
    {
      name: "help",
      usage: "help",
      summary: "show this list",
      group: "General",
      args: { max: 0 },
      async run(ctx) {
        const { text, html } = deps.dispatcher.helpText(ctx.isAdmin);
        await ctx.reply(text, html);
      },
    },
    {
      name: "version",
      usage: "version",
      summary: "show the bridge's version",
      group: "General",
      args: { max: 0 },
      async run(ctx) {
        await ctx.reply(`skype-matrix-bridge ${deps.version} (Node ${process.version})`);
      },
    },
    {
      name: "ping",
      usage: "ping",
      summary: "check that the homeserver and the bridge can reach each other",
      group: "General",
      args: { max: 0 },
      async run(ctx) {
        const r = await deps.ping();
        if (r.ok) {
          await ctx.reply(
            `Pong. The bridge reached the homeserver, and the homeserver reached the bridge in ${r.durationMs} ms.`,
          );
        } else {
          await ctx.reply(`The homeserver could not reach the bridge: ${r.reason}`);
        }
      },
    },
  ];
}
